import { expect } from 'chai';
import { attr, child, escapeXml, parseXml, xsiType, XSI_NS } from './xml.js';

describe('vsphere xml', () => {
  it('resolves xsi:type by namespace whatever the prefix: vcsim, vCenter and an odd one', () => {
    const vcsim = parseXml(`<val xmlns:XMLSchema-instance="${XSI_NS}" XMLSchema-instance:type="ArrayOfVirtualDevice"/>`);
    const vcenter = parseXml(`<e xmlns:xsi="${XSI_NS}"><val xsi:type="ArrayOfVirtualDevice"/></e>`);
    const odd = parseXml(`<val xmlns:q="${XSI_NS}" q:type="xsd:string"/>`);
    expect(xsiType(vcsim)).to.equal('ArrayOfVirtualDevice');
    expect(xsiType(child(vcenter, 'val'))).to.equal('ArrayOfVirtualDevice');
    expect(xsiType(odd)).to.equal('string');
  });

  it('never takes the literal prefix: xsi bound elsewhere, or a moref type attribute, is not xsi:type', () => {
    const decoy = parseXml('<val xmlns:xsi="urn:not-xsi" xsi:type="Bogus" type="VirtualMachine">vm-1</val>');
    expect(xsiType(decoy)).to.equal(undefined);
    expect(attr(decoy, 'type')).to.equal('VirtualMachine');
    // vcsim's task result carries both attributes; each stays itself
    const both = parseXml(`<result xmlns:XMLSchema-instance="${XSI_NS}" XMLSchema-instance:type="ManagedObjectReference" type="VirtualMachineSnapshot">snapshot-3</result>`);
    expect(xsiType(both)).to.equal('ManagedObjectReference');
    expect(attr(both, 'type')).to.equal('VirtualMachineSnapshot');
  });

  it('gives elements their namespace URI and local name, decodes entities and CDATA', () => {
    const doc = parseXml('<s:Envelope xmlns:s="urn:x"><b xmlns="urn:vim25"><name>a &amp; b &lt;c&gt; &#233;<![CDATA[<raw>]]></name></b></s:Envelope>');
    expect([doc.ns, doc.name]).to.deep.equal(['urn:x', 'Envelope']);
    const b = doc.children[0]!;
    expect([b.ns, b.name]).to.deep.equal(['urn:vim25', 'b']);
    expect(child(b, 'name')!.text).to.equal('a & b <c> é<raw>');
    expect(b.attributes).to.deep.equal([]); // xmlns declarations are not attributes
  });

  it('refuses malformed XML and DOCTYPEs', () => {
    expect(() => parseXml('<a><b></a>')).to.throw(/malformed XML/);
    expect(() => parseXml('')).to.throw(/malformed XML/);
    expect(() => parseXml('<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>')).to.throw(/DOCTYPE|malformed/);
    expect(() => parseXml('<a xmlns:p="urn:p"><q:b/></a>')).to.throw(/malformed XML/); // unbound prefix
  });

  it('escapes every markup character and refuses what XML cannot carry', () => {
    expect(escapeXml(`<a href="x">&'\r`)).to.equal('&lt;a href=&quot;x&quot;&gt;&amp;&apos;&#13;');
    expect(parseXml(`<v a="${escapeXml('"<&>\'')}">${escapeXml('</v><x>&amp;')}</v>`).text).to.equal('</v><x>&amp;');
    expect(() => escapeXml('a\u0000b')).to.throw(RangeError);
    expect(() => escapeXml('bell\u0007')).to.throw(RangeError);
    expect(escapeXml('tab\tnl\n')).to.equal('tab\tnl\n');
  });
});
