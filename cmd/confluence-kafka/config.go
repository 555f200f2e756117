package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/parable/confluence-kafka/internal/broker"
	"github.com/parable/confluence-kafka/internal/config"
)

// configFileFlag is the --config-file flag. Setting it only records the
// path: applyConfigFile reads the file once flags and environment are parsed,
// so that both take precedence over it.
type configFileFlag struct {
	path string
	file *config.File // nil until applied, or without a file
}

var _ flag.Value = (*configFileFlag)(nil)

func (c *configFileFlag) String() string {
	if c == nil {
		return ""
	}
	return c.path
}

func (c *configFileFlag) Set(path string) error {
	c.path = path
	return nil
}

func (c *configFileFlag) register(fs *flag.FlagSet) {
	fs.Var(c, "config-file", "YAML configuration file: Kafka, index, metrics, logs and the sites to crawl; "+
		"flags and environment variables override its settings (see docs/configuration.md)")
}

// secretFlags are the flags whose values are never printed.
var secretFlags = []string{"confluence-api-token", "confluence-bearer-token", "kafka-sasl-password"}

// applyConfigFile reads the file named by --config-file, if the subcommand
// has that flag and it is set, and sets every flag that neither the command
// line nor the environment set from the file: flags > environment > file >
// defaults.
func applyConfigFile(fs *flag.FlagSet) error {
	f := fs.Lookup("config-file")
	if f == nil {
		return nil
	}
	cf := f.Value.(*configFileFlag) // only configFileFlag.register defines it
	if cf.path == "" {
		return nil
	}
	file, err := config.Load(cf.path)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	settings, err := file.Settings(os.LookupEnv)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for name, value := range settings {
		if fs.Lookup(name) == nil || set[name] {
			continue
		}
		if err := fs.Set(name, value); err != nil {
			return fmt.Errorf("%w: config file %s: %s: %v", errUsage, cf.path, name, err)
		}
	}
	cf.file = file
	return nil
}

// securityFlags are the TLS and SASL settings of the Kafka connection.
type securityFlags struct {
	tls          bool
	caFile       string
	certFile     string
	keyFile      string
	serverName   string
	mechanism    string
	username     string
	password     string
	passwordFile string
}

func (s *securityFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&s.tls, "kafka-tls", false, "connect to the brokers over TLS (implied by the other kafka-tls-* flags)")
	fs.StringVar(&s.caFile, "kafka-tls-ca-file", "", "PEM file of the CA certificates that sign the brokers' certificates (empty: system roots)")
	fs.StringVar(&s.certFile, "kafka-tls-cert-file", "", "PEM client certificate, for brokers that require mutual TLS")
	fs.StringVar(&s.keyFile, "kafka-tls-key-file", "", "PEM key of the client certificate")
	fs.StringVar(&s.serverName, "kafka-tls-server-name", "", "name the brokers' certificates must carry (empty: the broker host)")
	fs.StringVar(&s.mechanism, "kafka-sasl-mechanism", "", "SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (empty: no SASL)")
	fs.StringVar(&s.username, "kafka-sasl-username", "", "SASL user")
	fs.StringVar(&s.password, "kafka-sasl-password", "", "SASL password (prefer the environment variable or the -file flag)")
	fs.StringVar(&s.passwordFile, "kafka-sasl-password-file", "", "file holding the SASL password")
}

// security returns the settings as a broker.Security, reading the password
// file if one is named.
func (s *securityFlags) security() (broker.Security, error) {
	password := s.password
	if s.passwordFile != "" {
		if password != "" {
			return broker.Security{}, fmt.Errorf("%w: kafka-sasl-password and kafka-sasl-password-file: set one, not both", errUsage)
		}
		var err error
		if password, err = config.ReadSecretFile(s.passwordFile, "kafka-sasl-password-file"); err != nil {
			return broker.Security{}, fmt.Errorf("%w: %v", errUsage, err)
		}
	}
	sec := broker.Security{
		TLS:  broker.TLS{Enabled: s.tls, CAFile: s.caFile, CertFile: s.certFile, KeyFile: s.keyFile, ServerName: s.serverName},
		SASL: broker.SASL{Mechanism: s.mechanism, Username: s.username, Password: password},
	}
	if err := sec.Validate(); err != nil {
		return broker.Security{}, fmt.Errorf("%w: %v", errUsage, err)
	}
	return sec, nil
}

func (s *securityFlags) configured() bool {
	return s.tls || s.caFile != "" || s.certFile != "" || s.keyFile != "" || s.serverName != "" || s.mechanism != ""
}

// runConfig prints the effective configuration: every setting with its
// value and where it came from, then the sites, with secrets redacted. It
// fails when a site's token cannot be read.
func runConfig(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("config", stderr)
	var j mainJob
	j.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	settings := map[string]string{}
	if f := j.kafka.file.file; f != nil {
		settings, _ = f.Settings(os.LookupEnv) // parseFlags has read it without error
	}
	fmt.Fprintln(stdout, "# effective configuration; precedence: flag > environment > file > default")
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fs.VisitAll(func(f *flag.Flag) {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", f.Name, shown(f), source(f.Name, args, settings))
	})
	if err := tw.Flush(); err != nil {
		return err
	}
	sites, err := j.siteSpecs()
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "\nsites:")
	var errs []error
	for _, s := range sites {
		s.print(stdout)
		if s.err != nil {
			errs = append(errs, s.err)
		}
	}
	return errors.Join(errs...)
}

// shown is a flag's value for printing, with secrets redacted.
func shown(f *flag.Flag) string {
	v := f.Value.String()
	switch {
	case v != "" && slices.Contains(secretFlags, f.Name):
		return "[redacted]"
	case v == "":
		return `""`
	}
	return v
}

// source says where a flag's value came from.
func source(name string, args []string, file map[string]string) string {
	if onCommandLine(name, args) {
		return "flag"
	}
	if _, ok := os.LookupEnv(envName(name)); ok {
		return "env " + envName(name)
	}
	if _, ok := file[name]; ok {
		return "file"
	}
	return "default"
}

// onCommandLine reports whether args set the flag name, in any of the forms
// package flag accepts.
func onCommandLine(name string, args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		a = strings.TrimLeft(a, "-")
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}

// securityOptions returns the TLS and SASL client options; the embedded
// broker speaks neither.
func (k *kafkaFlags) securityOptions() ([]kgo.Opt, error) {
	if k.brokers == "" && k.security.configured() {
		return nil, fmt.Errorf("%w: kafka-tls and kafka-sasl-* need kafka-brokers: the embedded broker uses neither", errUsage)
	}
	sec, err := k.security.security()
	if err != nil {
		return nil, err
	}
	opts, err := sec.Options()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	return opts, nil
}
