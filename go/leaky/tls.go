package main

// TLS for -tls and -client-ca: everything is generated at startup. The server
// certificate (for 127.0.0.1, ::1 and localhost) is signed by a throwaway CA whose
// certificate is written to -cert-out, so clients can trust it as a root (verifiers
// such as rustls refuse a CA certificate used directly as the server's). With
// -client-ca a second throwaway CA signs one client certificate, written with its key
// to -client-cert-out and -client-key-out, and the server requires it.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"time"
)

type keyPair struct {
	cert *x509.Certificate
	der  []byte
	key  *ecdsa.PrivateKey
}

// issue makes a certificate from tmpl, signed by parent (self-signed when nil).
func issue(tmpl *x509.Certificate, parent *keyPair) (*keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(7 * 24 * time.Hour)
	signerCert, signerKey := tmpl, key
	if parent != nil {
		signerCert, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, &key.PublicKey, signerKey)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &keyPair{cert: cert, der: der, key: key}, nil
}

func newCA(name string) (*keyPair, error) {
	return issue(&x509.Certificate{
		Subject:               pkix.Name{CommonName: name},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}, nil)
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	if path == "" {
		return nil
	}
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), mode)
}

func newTLSConfig(certOut string, clientCA bool, clientCertOut, clientKeyOut string) (*tls.Config, error) {
	ca, err := newCA("leaky server CA")
	if err != nil {
		return nil, err
	}
	leaf, err := issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "localhost"},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca)
	if err != nil {
		return nil, err
	}
	if err := writePEM(certOut, "CERTIFICATE", ca.der, 0o644); err != nil {
		return nil, err
	}
	cfg := &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{leaf.der}, PrivateKey: leaf.key}},
		NextProtos:   []string{"http/1.1"}, // keep it to HTTP/1.1: fewer goroutines per connection
	}
	if !clientCA {
		return cfg, nil
	}
	cca, err := newCA("leaky client CA")
	if err != nil {
		return nil, err
	}
	client, err := issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "goroscope"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, cca)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(client.key)
	if err != nil {
		return nil, err
	}
	if err := writePEM(clientCertOut, "CERTIFICATE", client.der, 0o644); err != nil {
		return nil, err
	}
	if err := writePEM(clientKeyOut, "PRIVATE KEY", keyDER, 0o600); err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cca.cert)
	cfg.ClientCAs = pool
	cfg.ClientAuth = tls.RequireAndVerifyClientCert
	return cfg, nil
}

func newTLSListener(ln net.Listener, cfg *tls.Config) net.Listener {
	return tls.NewListener(ln, cfg)
}
