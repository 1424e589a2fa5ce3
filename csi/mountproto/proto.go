package mountproto

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// Request asks the mounter to serve one mounted FUSE fd with an ossmount
// child. Paths are files the plugin wrote in the mount's state directory.
type Request struct {
	MountID string `json:"mountID"` // unique per target path; names the child in logs
	Target  string `json:"target"`  // BUCKET[:/PREFIX]
	// Args are ossmount options as "--name=value" or "--name", each
	// accepted by CheckArg.
	Args            []string `json:"args"`
	RoleARN         string   `json:"roleARN,omitempty"`
	OIDCProviderARN string   `json:"oidcProviderARN,omitempty"`
	OIDCTokenFile   string   `json:"oidcTokenFile,omitempty"`   // RRSA: the pod's service account token
	CredentialsFile string   `json:"credentialsFile,omitempty"` // fallback: an AccessKey INI file
	LogFile         string   `json:"logFile"`
	MemoryLimit     string   `json:"memoryLimit,omitempty"` // GOMEMLIMIT of the child, e.g. "512MiB"
}

// Reply is the mounter's answer: OK once the mount is served, else the
// child's one-line error.
type Reply struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	PID   int    `json:"pid,omitempty"` // the child serving the mount
}

// memoryLimit is a GOMEMLIMIT value; anything else makes the Go runtime
// of the child abort at start.
var memoryLimit = regexp.MustCompile(`^[0-9]+(B|KiB|MiB|GiB|TiB)?$`)

// CheckMemoryLimit accepts a GOMEMLIMIT size such as 512MiB.
func CheckMemoryLimit(s string) error {
	if !memoryLimit.MatchString(s) {
		return fmt.Errorf("memory limit %q: want a size such as 512MiB", s)
	}
	return nil
}

// maxMessage bounds a request; real ones are a few hundred bytes.
const maxMessage = 64 << 10

// allowedArgs are the ossmount options a volume may set: cache, read-ahead,
// ownership, log level, addressing. Nothing that names a local path or a
// credential (--credentials-file, --policy-file, --manifest, --cache-dir,
// --log-file, --profile), nothing that listens (--metrics-addr) and no
// FUSE debugging (--debug-fuse logs every request).
var allowedArgs = map[string]bool{
	"endpoint": true, "region": true, "path-style": true, "signature-version": true,
	"sts-endpoint": true, "role-arn": true, "role-session-name": true, "duration": true,
	"allow-other": true, "uid": true, "gid": true, "file-mode": true, "dir-mode": true,
	"metadata-ttl": true, "negative-ttl": true, "metadata-cache-size": true, "prefetch-metadata": true,
	"read-ahead-memory": true, "read-ahead": true, "part-size": true, "request-timeout": true,
	"max-requests-per-second": true, "max-bandwidth": true,
	"log-level": true,
}

// CheckArg accepts "--name=value" or "--name" for an allowed option name.
func CheckArg(arg string) error {
	name, _, _ := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
	if !strings.HasPrefix(arg, "--") || !allowedArgs[name] {
		return fmt.Errorf("option %q is not allowed for a volume (allowed: cache, read-ahead, ownership, log level and addressing options; no paths or credentials)", name)
	}
	return nil
}

// Allowed reports whether the ossmount option name (dashes) may be set.
func Allowed(name string) bool { return allowedArgs[name] }

// Check validates a request before the mounter acts on it.
func (r Request) Check() error {
	switch {
	case r.MountID == "" || strings.ContainsAny(r.MountID, "/\x00"):
		return errors.New("mountproto: bad mount ID")
	case r.Target == "" || strings.HasPrefix(r.Target, "-"):
		return errors.New("mountproto: bad target")
	case r.LogFile == "":
		return errors.New("mountproto: no log file")
	case r.MemoryLimit != "" && !memoryLimit.MatchString(r.MemoryLimit):
		return fmt.Errorf("mountproto: memory limit %q: want a size such as 512MiB", r.MemoryLimit)
	}
	for _, a := range r.Args {
		if err := CheckArg(a); err != nil {
			return err
		}
	}
	return nil
}

// Send sends req with fuseFD to the mounter at socket and waits, until
// deadline, for its reply.
func Send(socket string, req Request, fuseFD *os.File, deadline time.Time) (Reply, error) {
	var reply Reply
	body, err := json.Marshal(req)
	if err != nil {
		return reply, err
	}
	conn, err := net.DialTimeout("unixpacket", socket, time.Until(deadline))
	if err != nil {
		return reply, fmt.Errorf("mountproto: connecting to the mounter at %s: %w", socket, err)
	}
	defer conn.Close()
	uc := conn.(*net.UnixConn)
	uc.SetDeadline(deadline)
	if _, _, err := uc.WriteMsgUnix(body, syscall.UnixRights(int(fuseFD.Fd())), nil); err != nil {
		return reply, fmt.Errorf("mountproto: sending to the mounter: %w", err)
	}
	buf := make([]byte, maxMessage)
	n, err := uc.Read(buf)
	if err != nil {
		return reply, fmt.Errorf("mountproto: waiting for the mounter: %w", err)
	}
	if err := json.Unmarshal(buf[:n], &reply); err != nil {
		return reply, fmt.Errorf("mountproto: bad reply from the mounter: %w", err)
	}
	return reply, nil
}

// Receive reads one request and its fd from conn. The caller owns the
// returned file.
func Receive(conn *net.UnixConn) (Request, *os.File, error) {
	var req Request
	buf, oob := make([]byte, maxMessage), make([]byte, syscall.CmsgSpace(4*4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return req, nil, fmt.Errorf("mountproto: reading a request: %w", err)
	}
	var fds []int
	if msgs, err := syscall.ParseSocketControlMessage(oob[:oobn]); err == nil {
		for _, m := range msgs {
			if more, err := syscall.ParseUnixRights(&m); err == nil {
				fds = append(fds, more...)
			}
		}
	}
	if len(fds) != 1 {
		for _, fd := range fds {
			syscall.Close(fd)
		}
		return req, nil, fmt.Errorf("mountproto: request carries %d fds, want 1", len(fds))
	}
	syscall.CloseOnExec(fds[0])
	fuseFD := os.NewFile(uintptr(fds[0]), "/dev/fuse")
	if err := json.Unmarshal(buf[:n], &req); err != nil {
		fuseFD.Close()
		return req, nil, fmt.Errorf("mountproto: bad request: %w", err)
	}
	if err := req.Check(); err != nil {
		fuseFD.Close()
		return req, nil, err
	}
	return req, fuseFD, nil
}

// Answer writes reply on conn.
func Answer(conn *net.UnixConn, reply Reply) error {
	body, err := json.Marshal(reply)
	if err == nil {
		_, err = conn.Write(body)
	}
	return err
}

// AllowedNames lists the option names CheckArg accepts, for tests that
// check each is a real ossmount option.
func AllowedNames() []string {
	names := make([]string, 0, len(allowedArgs))
	for n := range allowedArgs {
		names = append(names, n)
	}
	return names
}
