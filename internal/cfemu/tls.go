package cfemu

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Names of the files GenerateCert writes.
const (
	CertFileName = "cfemu-cert.pem"
	KeyFileName  = "cfemu-key.pem"
)

// GenerateCert makes a self-signed certificate for 127.0.0.1, ::1,
// localhost and the hostnames given (workers' hostnames, so that a client
// that resolves them to the emulator's address verifies the certificate
// as it would Cloudflare's), writes it (and its key, readable by the owner only) to dir,
// and returns the certificate's path and a server TLS config using it.
// Clients trust it by loading the PEM, e.g. through SSL_CERT_FILE, since
// the official provider speaks only https.
func GenerateCert(dir string, hostnames ...string) (string, *tls.Config, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", nil, fmt.Errorf("cfemu: generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return "", nil, fmt.Errorf("cfemu: serial number: %w", err)
	}
	start := time.Now().Add(-time.Hour) // tolerate a little clock skew
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "cfemu local Cloudflare API emulator"},
		NotBefore:             start,
		NotAfter:              start.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true, // it is its own root, so it can sit in a trust store
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              append([]string{"localhost"}, hostnames...),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", nil, fmt.Errorf("cfemu: create certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", nil, fmt.Errorf("cfemu: encode key: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, fmt.Errorf("cfemu: cert dir: %w", err)
	}
	certPath := filepath.Join(dir, CertFileName)
	if err := os.WriteFile(certPath, certPEM, 0o644); err != nil {
		return "", nil, fmt.Errorf("cfemu: write certificate: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, KeyFileName), keyPEM, 0o600); err != nil {
		return "", nil, fmt.Errorf("cfemu: write key: %w", err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return "", nil, fmt.Errorf("cfemu: load key pair: %w", err)
	}
	return certPath, &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}
