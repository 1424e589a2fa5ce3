package creds

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// readSecretFile reads a file that holds a source credential (the INI
// credentials file, the CLI config.json, Config.CredentialsFile), as ssh
// treats a private key: a file others may write is refused, since anyone
// could put their own key in it; one others may read is used with a
// warning, because Kubernetes mounts Secrets 0644 unless told otherwise.
func readSecretFile(path string, logger *slog.Logger) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	switch mode := st.Mode().Perm(); {
	case mode&0o022 != 0:
		return nil, fmt.Errorf("%s is writable by others (mode %04o): anyone could substitute the key; run chmod 600 %s", path, mode, path)
	case mode&0o044 != 0:
		logger.Warn("source credential file is readable by others; run chmod 600 on it", "file", path, "mode", fmt.Sprintf("%04o", mode))
	}
	return readSmallFile(path, fileReadTimeout)
}

// cliConfig is the Alibaba Cloud CLI's ~/.aliyun/config.json (reference
// 8.2); only the fields credential sources use.
type cliConfig struct {
	Current  string       `json:"current"`
	Profiles []cliProfile `json:"profiles"`
}

type cliProfile struct {
	Name            string `json:"name"`
	Mode            string `json:"mode"`
	AccessKeyID     string `json:"access_key_id"`
	AccessKeySecret string `json:"access_key_secret"`
	StsToken        string `json:"sts_token"`
	RoleArn         string `json:"ram_role_arn"`
	RoleSessionName string `json:"ram_session_name"`
	DurationSeconds int    `json:"expired_seconds"`
	Policy          string `json:"policy"`
	RoleName        string `json:"ram_role_name"`
	OIDCProviderARN string `json:"oidc_provider_arn"`
	OIDCTokenFile   string `json:"oidc_token_file"`
}

// parseCLIConfig decodes config.json. Errors carry no file content: the
// file holds secrets.
func parseCLIConfig(data []byte) (cliConfig, error) {
	var c cliConfig
	if err := json.Unmarshal(data, &c); err != nil {
		return cliConfig{}, fmt.Errorf("not a valid CLI config.json: %s", jsonErrorWithoutValues(err))
	}
	return c, nil
}

func jsonErrorWithoutValues(err error) string {
	switch e := err.(type) {
	case *json.SyntaxError:
		return fmt.Sprintf("syntax error at byte %d", e.Offset)
	case *json.UnmarshalTypeError:
		return fmt.Sprintf("field %q has the wrong type", e.Field)
	}
	return "cannot decode"
}

func (c cliConfig) profile(name string) (cliProfile, bool) {
	for _, p := range c.Profiles {
		if p.Name == name {
			return p, true
		}
	}
	return cliProfile{}, false
}

// iniFile is ~/.alibabacloud/credentials: section -> key -> value.
type iniFile map[string]map[string]string

// parseINI reads "[section]" headers and "key = value" lines; '#' and ';'
// start comments. Errors give line numbers, never line text (secrets).
func parseINI(data []byte) (iniFile, error) {
	f := iniFile{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
			continue
		case line[0] == '[':
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("line %d: section header without ']'", n)
			}
			section = strings.TrimSpace(line[1 : len(line)-1])
			if section == "" {
				return nil, fmt.Errorf("line %d: empty section name", n)
			}
			if f[section] == nil {
				f[section] = map[string]string{}
			}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				return nil, fmt.Errorf("line %d: want key = value", n)
			}
			if section == "" {
				return nil, fmt.Errorf("line %d: key outside a [section]", n)
			}
			k = strings.TrimSpace(k)
			if k == "" {
				return nil, fmt.Errorf("line %d: empty key", n)
			}
			f[section][k] = unquote(strings.TrimSpace(v))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	return f, nil
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
		return v[1 : len(v)-1]
	}
	return v
}
