// SPDX-License-Identifier: Apache-2.0

package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chronon-go/chronon/fetcher"
	"github.com/chronon-go/chronon/fetcher/fetchertest"
	"github.com/chronon-go/chronon/fetcher/server"
	"github.com/chronon-go/chronon/plugins/kv/sqlite"
)

// selfSigned writes a certificate for 127.0.0.1 and its key to dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "chronon test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestServeTLSAndShutdown: Serve answers over TLS, and cancelling its
// context lets a request in flight finish before Serve returns nil.
func TestServeTLSAndShutdown(t *testing.T) {
	st, err := sqlite.Open(t.TempDir()+"/kv.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fetchertest.Load(t, st)
	certFile, keyFile := selfSigned(t, t.TempDir())
	srv := server.New(fetcher.New(slowStore{st}, fetcher.Options{}), server.Options{Timeout: 300 * time.Millisecond})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, certFile, keyFile) }()

	pool := x509.NewCertPool()
	pem, _ := os.ReadFile(certFile)
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	url := "https://" + ln.Addr().String()
	res, err := client.Get(url + "/ping")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != "pong" {
		t.Fatalf("/ping over TLS: %q", body)
	}
	// A request that takes its whole timeout (the slow store), and a
	// shutdown while it runs.
	inflight := make(chan int, 1)
	go func() {
		res, err := client.Post(url+"/v1/features/join/t%2Fcheckout", "application/json", strings.NewReader(`[{"buyer": "u1"}]`))
		if err != nil {
			inflight <- -1
			return
		}
		res.Body.Close()
		inflight <- res.StatusCode
	}()
	time.Sleep(100 * time.Millisecond)
	cancel()
	if code := <-inflight; code != 200 {
		t.Errorf("request in flight during shutdown: %d, want 200", code)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve after shutdown: %v", err)
	}
	if _, err := client.Get(url + "/ping"); err == nil {
		t.Error("the server still answers after shutdown")
	}
}
