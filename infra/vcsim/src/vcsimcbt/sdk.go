// The HTTP front: SOAP pass-through with the QCDA redirect, and /folder authentication.

package main

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"

	"github.com/vmware/govmomi/vim25/soap"
)

// soapMethod returns the local name of the first element inside the SOAP Body.
func soapMethod(body []byte) string {
	dec := xml.NewDecoder(bytes.NewReader(body))
	inBody := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		if se, ok := tok.(xml.StartElement); ok {
			if inBody {
				return se.Name.Local
			}
			inBody = se.Name.Local == "Body"
		}
	}
}

var thisRe = regexp.MustCompile(`(<(?:[\w.-]+:)?_this\b[^>]*\stype\s*=\s*)(["'])VirtualMachine(["'])`)

const currentTimeEnvelope = `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><CurrentTime xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></CurrentTime></soapenv:Body></soapenv:Envelope>`

type harness struct {
	c          *cbt
	next       http.Handler // vcsim's mux
	user, pass string
	folderAuth bool
	datacenter string
	url        string
}

func (h *harness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/harness/"):
		h.control(w, r)
	case strings.HasPrefix(r.URL.Path, "/folder/") && h.folderAuth && !h.authorized(r):
		w.Header().Set("WWW-Authenticate", `Basic realm="VMware HTTP server"`)
		http.Error(w, "a vmware_soap_session cookie or basic auth is required", http.StatusUnauthorized)
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/sdk"):
		h.sdk(w, r)
	default:
		h.next.ServeHTTP(w, r)
	}
}

// sdk passes a SOAP call to vcsim. QueryChangedDiskAreas is redirected to the CbtVM of
// the VM. The response is held back until the harness has observed the call's effects
// (CBT toggles, disk edits), so the next call a client makes always sees them.
func (h *harness) sdk(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	qcda := soapMethod(body) == "QueryChangedDiskAreas"
	if qcda {
		body = thisRe.ReplaceAll(body, []byte("${1}${2}CbtVirtualMachine${3}"))
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	rec := httptest.NewRecorder()
	h.next.ServeHTTP(rec, r)
	h.c.observeAll()
	out := rec.Body.Bytes()
	if qcda { // keep the internal type name out of faults
		out = bytes.ReplaceAll(out, []byte("CbtVirtualMachine"), []byte("VirtualMachine"))
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	_, _ = w.Write(out)
}

// authorized: a valid session cookie (checked by asking vcsim for CurrentTime with it,
// which also counts as session activity), or basic auth with the configured credentials.
func (h *harness) authorized(r *http.Request) bool {
	if u, p, ok := r.BasicAuth(); ok {
		return u == h.user && p == h.pass
	}
	ck, err := r.Cookie(soap.SessionCookieName)
	if err != nil || ck.Value == "" {
		return false
	}
	req := httptest.NewRequest(http.MethodPost, "/sdk", strings.NewReader(currentTimeEnvelope))
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.AddCookie(&http.Cookie{Name: soap.SessionCookieName, Value: ck.Value})
	rec := httptest.NewRecorder()
	h.next.ServeHTTP(rec, req)
	return rec.Code == http.StatusOK
}
