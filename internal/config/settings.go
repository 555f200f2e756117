package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/parable/confluence-kafka/internal/confluence"
)

// LookupEnv reads an environment variable; os.LookupEnv in production.
type LookupEnv func(name string) (string, bool)

// Settings returns the global settings the file sets, keyed by the name of
// the command's flag for each (kafka.brokers is kafka-brokers), as flag
// values. Settings the file leaves out are absent. The SASL password is read
// from the environment variable the file names; a password file stays a
// path, read when the client is built.
func (f *File) Settings(env LookupEnv) (map[string]string, error) {
	out := map[string]string{}
	set := func(name, value string) {
		if value != "" {
			out[name] = value
		}
	}
	k := f.Kafka
	set("kafka-brokers", strings.Join(k.Brokers, ","))
	set("kafka-connect-timeout", durationValue(k.ConnectTimeout))
	set("topic-prefix", k.TopicPrefix)
	set("topic-partitions", intValue(k.TopicPartitions))
	set("topic-replication-factor", intValue(k.TopicReplicationFactor))
	set("topic-max-message-bytes", intValue(k.TopicMaxMessageBytes))
	if k.TLS.Enabled {
		set("kafka-tls", "true")
	}
	set("kafka-tls-ca-file", k.TLS.CAFile)
	set("kafka-tls-cert-file", k.TLS.CertFile)
	set("kafka-tls-key-file", k.TLS.KeyFile)
	set("kafka-tls-server-name", k.TLS.ServerName)
	set("kafka-sasl-mechanism", k.SASL.Mechanism)
	set("kafka-sasl-username", k.SASL.Username)
	set("kafka-sasl-password-file", k.SASL.PasswordFile)
	if name := k.SASL.PasswordEnv; name != "" {
		v, ok := env(name)
		if !ok || v == "" {
			return nil, fmt.Errorf("%s %s: that environment variable is not set or empty", f.at("kafka.sasl.password_env"), name)
		}
		out["kafka-sasl-password"] = v
	}
	set("index-path", f.Index.Path)
	set("consumer-group", f.Index.ConsumerGroup)
	set("metrics-listen", f.Metrics.Listen)
	set("ready-blocked-after", durationValue(f.Metrics.BlockedAfter))
	set("log-format", f.Log.Format)
	set("log-level", f.Log.Level)
	return out, nil
}

// Confluence returns the client configuration of site i, with its token read
// from the environment variable or file the site names.
func (f *File) Confluence(i int, env LookupEnv) (confluence.Config, error) {
	s := f.Sites[i]
	p := fmt.Sprintf("sites[%d]", i)
	cfg := confluence.Config{
		BaseURL:           s.BaseURL,
		Email:             s.Email,
		AllowInsecureHTTP: s.AllowInsecureHTTP,
		RequestsPerSecond: s.RequestsPerSecond,
		Burst:             s.Burst,
		MaxAttempts:       s.MaxAttempts,
		RequestTimeout:    s.RequestTimeout.Std(),
		BreakerFailures:   uint32(s.Breaker.Failures), // Validate bounds it to 0..1000
		BreakerOpenFor:    s.Breaker.OpenFor.Std(),
	}
	var err error
	switch {
	case s.APITokenEnv != "" || s.APITokenFile != "":
		cfg.APIToken, err = f.secret(p, "api_token", s.APITokenEnv, s.APITokenFile, env)
	case s.BearerTokenEnv != "" || s.BearerTokenFile != "":
		cfg.BearerToken, err = f.secret(p, "bearer_token", s.BearerTokenEnv, s.BearerTokenFile, env)
	}
	return cfg, err
}

// TokenSource says where site i's token comes from, without the token: for
// printing the effective configuration.
func (s Site) TokenSource() string {
	switch {
	case s.APITokenEnv != "":
		return "API token from environment variable " + s.APITokenEnv
	case s.APITokenFile != "":
		return "API token from file " + s.APITokenFile
	case s.BearerTokenEnv != "":
		return "bearer token from environment variable " + s.BearerTokenEnv
	case s.BearerTokenFile != "":
		return "bearer token from file " + s.BearerTokenFile
	}
	return "none"
}

// secret reads a token from the environment variable or the file a site
// names in the fields <field>_env and <field>_file.
func (f *File) secret(p, field, envName, file string, env LookupEnv) (string, error) {
	if envName != "" {
		v, ok := env(envName)
		if !ok || strings.TrimSpace(v) == "" {
			return "", fmt.Errorf("%s %s: that environment variable is not set or empty", f.at(p+"."+field+"_env"), envName)
		}
		return strings.TrimSpace(v), nil
	}
	return ReadSecretFile(file, f.at(p+"."+field+"_file"))
}

// ReadSecretFile reads a secret from path: its content without surrounding
// white space. name labels errors, which never contain the content.
func ReadSecretFile(path, name string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", name, path, err)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("%s %s: the file is empty", name, path)
	}
	return v, nil
}

func intValue(v int) string {
	if v == 0 {
		return ""
	}
	return strconv.Itoa(v)
}

func durationValue(d Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}
