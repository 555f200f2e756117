package broker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// SASL mechanisms the pipeline supports.
const (
	MechanismPlain       = "PLAIN"
	MechanismScramSHA256 = "SCRAM-SHA-256"
	MechanismScramSHA512 = "SCRAM-SHA-512"
)

// Security is how clients reach a secured cluster: TLS for the connection and
// SASL for authentication. The zero value is a plaintext, unauthenticated
// connection. Its String, GoString and LogValue methods never print the
// password.
type Security struct {
	// TLS encrypts the connection; see [TLS].
	TLS TLS
	// SASL authenticates the client; see [SASL].
	SASL SASL
}

// TLS configures encryption of the connection to the brokers.
type TLS struct {
	// Enabled turns TLS on with the system's root certificates. Setting any
	// other field turns it on as well.
	Enabled bool
	// CAFile is a PEM file of the certificates that sign the brokers'
	// certificates. Empty means the system's roots.
	CAFile string
	// CertFile and KeyFile are the PEM client certificate and its key, for
	// brokers that require mutual TLS. Both or neither.
	CertFile, KeyFile string
	// ServerName is the name the brokers' certificates must carry. Empty
	// means the host of each broker address.
	ServerName string
}

// SASL configures authentication to the brokers.
type SASL struct {
	// Mechanism is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; empty means no
	// SASL. It is matched without regard to case.
	Mechanism string
	// Username and Password are the credentials; both are required with a
	// mechanism.
	Username string
	Password string
}

var (
	_ fmt.Stringer   = Security{}
	_ fmt.GoStringer = Security{}
	_ slog.LogValuer = Security{}
)

// TLSOn reports whether the connection uses TLS.
func (t TLS) TLSOn() bool {
	return t.Enabled || t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" || t.ServerName != ""
}

// Validate reports every invalid setting, each named by its flag, with its
// value and what is allowed. It does not read the files.
func (s Security) Validate() error {
	var errs []error
	if (s.TLS.CertFile == "") != (s.TLS.KeyFile == "") {
		errs = append(errs, fmt.Errorf("kafka-tls-cert-file %q and kafka-tls-key-file %q: set both or neither",
			s.TLS.CertFile, s.TLS.KeyFile))
	}
	mech := strings.ToUpper(s.SASL.Mechanism)
	switch mech {
	case "":
		if s.SASL.Username != "" || s.SASL.Password != "" {
			errs = append(errs, errors.New("kafka-sasl-mechanism is empty but a SASL username or password is set: "+
				"want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"))
		}
	case MechanismPlain, MechanismScramSHA256, MechanismScramSHA512:
		if s.SASL.Username == "" || s.SASL.Password == "" {
			errs = append(errs, fmt.Errorf("kafka-sasl-username and kafka-sasl-password: both required with %s", mech))
		}
	default:
		errs = append(errs, fmt.Errorf("kafka-sasl-mechanism %q: want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512",
			s.SASL.Mechanism))
	}
	return errors.Join(errs...)
}

// Options validates s, reads its certificate files and returns the franz-go
// options that apply it. The zero Security gives none.
func (s Security) Options() ([]kgo.Opt, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	var opts []kgo.Opt
	if s.TLS.TLSOn() {
		cfg, err := s.TLS.config()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(cfg))
	}
	if m := s.SASL.mechanism(); m != nil {
		opts = append(opts, kgo.SASL(m))
	}
	return opts, nil
}

// config builds the client TLS configuration from the files.
func (t TLS) config() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("kafka-tls-ca-file %q: %w", t.CAFile, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("kafka-tls-ca-file %q: no PEM certificate in it", t.CAFile)
		}
		cfg.RootCAs = pool
	}
	if t.CertFile != "" {
		pair, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("kafka-tls-cert-file %q and kafka-tls-key-file %q: %w", t.CertFile, t.KeyFile, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// mechanism returns the franz-go mechanism, nil without SASL.
func (s SASL) mechanism() sasl.Mechanism {
	switch strings.ToUpper(s.Mechanism) {
	case MechanismPlain:
		return plain.Auth{User: s.Username, Pass: s.Password}.AsMechanism()
	case MechanismScramSHA256:
		return scram.Auth{User: s.Username, Pass: s.Password}.AsSha256Mechanism()
	case MechanismScramSHA512:
		return scram.Auth{User: s.Username, Pass: s.Password}.AsSha512Mechanism()
	}
	return nil
}

// String describes s without the password.
func (s Security) String() string {
	return fmt.Sprintf("broker.Security{TLS: %s, SASL: %s}", s.TLS.describe(), s.SASL.describe())
}

// GoString is String, so that %#v cannot print the password either.
func (s Security) GoString() string { return s.String() }

// LogValue describes s for slog without the password.
func (s Security) LogValue() slog.Value {
	return slog.GroupValue(slog.String("tls", s.TLS.describe()), slog.String("sasl", s.SASL.describe()))
}

func (t TLS) describe() string {
	if !t.TLSOn() {
		return "off"
	}
	parts := []string{"on"}
	if t.CAFile != "" {
		parts = append(parts, "ca "+t.CAFile)
	}
	if t.CertFile != "" {
		parts = append(parts, "client cert "+t.CertFile)
	}
	if t.ServerName != "" {
		parts = append(parts, "server name "+t.ServerName)
	}
	return strings.Join(parts, ", ")
}

func (s SASL) describe() string {
	if s.Mechanism == "" {
		return "off"
	}
	return strings.ToUpper(s.Mechanism) + " user " + s.Username + " password [redacted]"
}

// explainConnect turns the error of a first request into what a person must
// check, naming the settings involved. cl tells which security options it
// ran with.
func explainConnect(cl *kgo.Client, timeout time.Duration, err error) error {
	mechs, _ := cl.OptValue(kgo.SASL).([]sasl.Mechanism) // the option's documented type
	var (
		unknownAuth x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		certErr     *tls.CertificateVerificationError
		recordErr   tls.RecordHeaderError
	)
	switch {
	case errors.Is(err, kerr.SaslAuthenticationFailed),
		len(mechs) > 0 && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)):
		// A real broker answers SASL_AUTHENTICATION_FAILED; some (and kfake)
		// just close the connection on a wrong password.
		return fmt.Errorf("kafka rejected the SASL credentials: check kafka-sasl-username, kafka-sasl-password "+
			"and kafka-sasl-mechanism (KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD, KAFKA_SASL_MECHANISM): %w", err)
	case errors.Is(err, kerr.UnsupportedSaslMechanism):
		return fmt.Errorf("kafka-sasl-mechanism: the brokers do not enable it; want one they list: %w", err)
	case len(mechs) == 0 && strings.Contains(err.Error(), "SASL is required"):
		return fmt.Errorf("the brokers require SASL: set kafka-sasl-mechanism, kafka-sasl-username and "+
			"kafka-sasl-password: %w", err)
	case errors.As(err, &hostErr):
		return fmt.Errorf("the broker certificate does not match its address: check kafka-tls-server-name "+
			"and KAFKA_BROKERS: %w", err)
	case errors.As(err, &unknownAuth), errors.As(err, &certErr):
		return fmt.Errorf("the broker certificate is not trusted: check kafka-tls-ca-file: %w", err)
	case errors.As(err, &recordErr):
		return fmt.Errorf("the brokers do not speak TLS at this address: check kafka-tls and KAFKA_BROKERS: %w", err)
	}
	if c, _ := cl.OptValue(kgo.DialTLSConfig).(*tls.Config); c != nil && errors.Is(err, context.DeadlineExceeded) {
		// A plaintext broker often just waits for a Kafka request that the
		// TLS hello never completes.
		return fmt.Errorf("kafka brokers unreachable over TLS after %s (check KAFKA_BROKERS, and kafka-tls: "+
			"the brokers may not speak TLS at this address): %w", timeout, err)
	}
	return fmt.Errorf("kafka brokers unreachable after %s (check KAFKA_BROKERS): %w", timeout, err)
}
