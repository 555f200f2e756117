package broker

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
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestSecurityValidateNamesTheSetting(t *testing.T) {
	tests := []struct {
		name string
		sec  Security
		want string // "" means valid
	}{
		{"zero value", Security{}, ""},
		{"scram with credentials", Security{SASL: SASL{Mechanism: "scram-sha-512", Username: "u", Password: "p"}}, ""},
		{"tls with every file", Security{TLS: TLS{CAFile: "ca", CertFile: "c", KeyFile: "k"}}, ""},
		{"unknown mechanism", Security{SASL: SASL{Mechanism: "GSSAPI", Username: "u", Password: "p"}}, `kafka-sasl-mechanism "GSSAPI": want PLAIN`},
		{"mechanism without password", Security{SASL: SASL{Mechanism: "PLAIN", Username: "u"}}, "kafka-sasl-password: both required with PLAIN"},
		{"user without mechanism", Security{SASL: SASL{Username: "u"}}, "kafka-sasl-mechanism is empty"},
		{"cert without key", Security{TLS: TLS{CertFile: "c.pem"}}, `kafka-tls-cert-file "c.pem" and kafka-tls-key-file "": set both`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.sec.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestSecurityNeverPrintsThePassword(t *testing.T) {
	const password = "pa55-w0rd-distinctive"
	s := Security{SASL: SASL{Mechanism: MechanismScramSHA256, Username: "svc", Password: password}}
	for _, out := range []string{s.String(), fmt.Sprintf("%#v", s), fmt.Sprintf("%+v", s), s.LogValue().String()} {
		if strings.Contains(out, password) || !strings.Contains(out, "svc") {
			t.Errorf("printed Security = %q, want the user and no password", out)
		}
	}
}

// ping connects a client with sec's options to seeds and pings.
func ping(t *testing.T, seeds []string, sec Security) error {
	t.Helper()
	opts, err := sec.Options()
	if err != nil {
		t.Fatalf("Options() = %v", err)
	}
	cl, err := kgo.NewClient(append(opts, kgo.SeedBrokers(seeds...))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	return Ping(t.Context(), cl, 2*time.Second)
}

func TestSASLAgainstEmbeddedBroker(t *testing.T) {
	const user, pass = "crawler", "s3cret"
	var opts []kfake.Opt
	for _, m := range []string{MechanismPlain, MechanismScramSHA256, MechanismScramSHA512} {
		opts = append(opts, kfake.Superuser(m, user, pass))
	}
	c, err := kfake.NewCluster(append(opts, kfake.NumBrokers(1), kfake.EnableSASL())...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	seeds := c.ListenAddrs()

	tests := []struct {
		name      string
		sasl      SASL
		wantError string // "" means the ping succeeds
	}{
		{"plain", SASL{MechanismPlain, user, pass}, ""},
		{"scram-sha-256", SASL{MechanismScramSHA256, user, pass}, ""},
		{"scram-sha-512 lower case", SASL{"scram-sha-512", user, pass}, ""},
		{"scram-sha-256 wrong password", SASL{MechanismScramSHA256, user, "wrong"}, "rejected the SASL credentials: check kafka-sasl-username, kafka-sasl-password"},
		{"scram-sha-512 unknown user", SASL{MechanismScramSHA512, "nobody", pass}, "KAFKA_SASL_PASSWORD"},
		{"plain wrong password", SASL{MechanismPlain, user, "wrong"}, "rejected the SASL credentials"},
		{"no sasl", SASL{}, "the brokers require SASL: set kafka-sasl-mechanism"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ping(t, seeds, Security{SASL: tc.sasl})
			switch {
			case tc.wantError == "" && err != nil:
				t.Errorf("Ping(%s) = %v, want nil", tc.sasl.Mechanism, err)
			case tc.wantError != "" && (err == nil || !strings.Contains(err.Error(), tc.wantError)):
				t.Errorf("Ping(%s) = %v, want an error containing %q", tc.sasl.Mechanism, err, tc.wantError)
			}
			if err != nil && strings.Contains(err.Error(), pass) {
				t.Errorf("Ping error %q contains the password", err)
			}
		})
	}
}

func TestSCRAMClientProducesAndConsumes(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(),
		kfake.Superuser(MechanismScramSHA512, "svc", "pw"), kfake.SeedTopics(1, "secured"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	sec := Security{SASL: SASL{MechanismScramSHA512, "svc", "pw"}}
	opts, err := sec.Options()
	if err != nil {
		t.Fatal(err)
	}
	produceAndRead(t, append(opts, kgo.SeedBrokers(c.ListenAddrs()...)), "secured")
}

// produceAndRead writes one record to topic and reads it back with opts.
func produceAndRead(t *testing.T, opts []kgo.Opt, topic string) {
	t.Helper()
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(t.Context(), &kgo.Record{Topic: topic, Key: []byte("k"), Value: []byte("hello")}).FirstErr(); err != nil {
		t.Fatalf("ProduceSync() = %v", err)
	}
	var got []string
	err = ReadCommitted(t.Context(), opts, topic, func(r *kgo.Record) error {
		got = append(got, string(r.Value))
		return nil
	})
	if err != nil || len(got) == 0 || got[len(got)-1] != "hello" {
		t.Errorf("ReadCommitted(%s) = %q, %v; want the record hello", topic, got, err)
	}
}

func TestTLSAgainstEmbeddedBroker(t *testing.T) {
	pki := newTestPKI(t)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.TLS(pki.serverConfig()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	plainCluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(plainCluster.Close)

	good := TLS{CAFile: pki.caFile, CertFile: pki.clientCert, KeyFile: pki.clientKey}
	tests := []struct {
		name      string
		seeds     []string
		tls       TLS
		wantError string
	}{
		{"mutual tls", c.ListenAddrs(), good, ""},
		{"server name given", c.ListenAddrs(), TLS{CAFile: pki.caFile, CertFile: pki.clientCert, KeyFile: pki.clientKey, ServerName: "broker.test"}, ""},
		{"wrong server name", c.ListenAddrs(), TLS{CAFile: pki.caFile, CertFile: pki.clientCert, KeyFile: pki.clientKey, ServerName: "other.test"}, "check kafka-tls-server-name"},
		{"system roots only", c.ListenAddrs(), TLS{Enabled: true, CertFile: pki.clientCert, KeyFile: pki.clientKey}, "not trusted: check kafka-tls-ca-file"},
		{"tls to a plaintext broker", plainCluster.ListenAddrs(), good, "the brokers may not speak TLS at this address"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ping(t, tc.seeds, Security{TLS: tc.tls})
			switch {
			case tc.wantError == "" && err != nil:
				t.Errorf("Ping() = %v, want nil", err)
			case tc.wantError != "" && (err == nil || !strings.Contains(err.Error(), tc.wantError)):
				t.Errorf("Ping() = %v, want an error containing %q", err, tc.wantError)
			}
		})
	}
}

func TestTLSFilesAreNamedWhenUnreadable(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		tls  TLS
		want string
	}{
		{"missing ca file", TLS{CAFile: filepath.Join(dir, "none.pem")}, "kafka-tls-ca-file"},
		{"ca file without pem", TLS{CAFile: junk}, "no PEM certificate"},
		{"bad key pair", TLS{CertFile: junk, KeyFile: junk}, "kafka-tls-cert-file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Security{TLS: tc.tls}.Options()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Options() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// testPKI is a throwaway CA with a server certificate for 127.0.0.1 and
// broker.test, and a client certificate, written to PEM files.
type testPKI struct {
	caPool                        *x509.CertPool
	server                        tls.Certificate
	caFile, clientCert, clientKey string
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	caKey, caCert, caDER := newCert(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "test ca"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign,
	}, nil, nil)
	p := &testPKI{caPool: x509.NewCertPool(), caFile: filepath.Join(dir, "ca.pem")}
	p.caPool.AddCert(caCert)
	writePEM(t, p.caFile, "CERTIFICATE", caDER)

	srvKey, _, srvDER := newCert(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "broker"}, DNSNames: []string{"broker.test"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, caCert, caKey)
	p.server = tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}

	cliKey, _, cliDER := newCert(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "crawler"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, caCert, caKey)
	p.clientCert, p.clientKey = filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem")
	writePEM(t, p.clientCert, "CERTIFICATE", cliDER)
	keyDER, err := x509.MarshalPKCS8PrivateKey(cliKey)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, p.clientKey, "PRIVATE KEY", keyDER)
	return p
}

func (p *testPKI) serverConfig() *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{p.server}, ClientCAs: p.caPool,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12,
	}
}

// newCert signs tmpl with parent's key, or self-signs it when parent is nil.
func newCert(t *testing.T, tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*ecdsa.PrivateKey, *x509.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert, der
}

func writePEM(t *testing.T, path, kind string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
