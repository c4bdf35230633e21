// The HTTP front: SOAP pass-through with the QCDA redirect, /folder authentication and DELETE.

package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"regexp"
	"strings"
	"syscall"

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
	case r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/folder/"):
		h.deleteFile(w, r)
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

// deleteFile serves DELETE /folder/<path>?dcPath=<dc>&dsName=<ds> the way vSphere's datastore HTTP
// interface does: it removes the file and answers 204, or 404 when the datacenter, the datastore or
// the file does not exist. vcsim has no DELETE: its /folder hands every method but PUT and POST to
// http.FileServer, which answers a DELETE with 200 and the file's bytes and keeps the file, so a
// client would believe a file gone that is still there. Only files: a directory is refused (400).
func (h *harness) deleteFile(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	dir := dsDir(q.Get("dsName"))
	if dc := q.Get("dcPath"); (dc != "" && dc != h.datacenter) || dir == "" {
		http.Error(w, "no such datacenter or datastore", http.StatusNotFound)
		return
	}
	rel := "/" + strings.TrimPrefix(r.URL.Path, "/folder/")
	if rel == "/" || path.Clean(rel) != rel { // no ".." (nothing outside the datastore), ".", "//" or trailing "/"
		http.Error(w, "not a datastore file path", http.StatusBadRequest)
		return
	}
	p := path.Join(dir, rel)
	st, err := os.Lstat(p)
	if err == nil && !st.Mode().IsRegular() {
		http.Error(w, "not a file", http.StatusBadRequest)
		return
	}
	if err == nil {
		err = os.Remove(p)
	}
	switch {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		http.Error(w, "no such file", http.StatusNotFound)
	default:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
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
