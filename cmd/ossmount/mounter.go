package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ossmount/ossmount/csi/mountproto"
)

// mounterCommand is `ossmount mounter --socket PATH`: the unprivileged half
// of the Kubernetes driver. The CSI plugin mounts /dev/fuse itself and hands
// the fd over the socket; the mounter runs one `ossmount -f ... /dev/fd/4`
// child per mount. The children live here, not in the plugin, so restarting
// or upgrading the plugin never touches a mount.
func mounterCommand() *cli.Command {
	return &cli.Command{
		Name:  "mounter",
		Usage: "(Kubernetes) serve FUSE fds handed over by ossmount-csi, one ossmount child per volume",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "socket", Required: true, Usage: "unix socket to listen on (SOCK_SEQPACKET, mode 0600)"},
			&cli.StringFlag{Name: "state-dir", Usage: "if set, every file a request names must be inside it"},
			&cli.StringFlag{Name: "memory-limit", Value: "512MiB", Usage: "GOMEMLIMIT of a child unless the request sets one"},
			&cli.DurationFlag{Name: "mount-timeout", Value: 2 * time.Minute, Usage: "how long a child may take to obtain credentials and serve"},
			&cli.StringFlag{Name: "log-level", Value: "info", Usage: "debug, info, warn or error"},
		},
		Action: runMounter,
	}
}

// mounter starts and reaps ossmount children.
type mounter struct {
	exe          string
	stateDir     string // "" or absolute
	memoryLimit  string
	mountTimeout time.Duration
	log          *slog.Logger
}

func runMounter(c *cli.Context) error {
	level, err := parseLevel(c.String("log-level"))
	if err != nil {
		return err
	}
	if err := mountproto.CheckMemoryLimit(c.String("memory-limit")); err != nil {
		return fmt.Errorf("--memory-limit: %w", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("mounter: cannot find own executable: %w", err)
	}
	m := &mounter{exe: exe, memoryLimit: c.String("memory-limit"), mountTimeout: c.Duration("mount-timeout"),
		log: newLogger(os.Stderr, level)}
	if dir := c.String("state-dir"); dir != "" {
		if m.stateDir, err = filepath.Abs(dir); err != nil {
			return err
		}
	}
	socket := c.String("socket")
	if err := os.Remove(socket); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("mounter: removing the old socket: %w", err)
	}
	ln, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: socket, Net: "unixpacket"})
	if err != nil {
		return fmt.Errorf("mounter: %w", err)
	}
	if err := os.Chmod(socket, 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("mounter: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() { <-ctx.Done(); ln.Close() }()
	m.log.Info("mounter listening", "socket", socket, "uid", os.Getuid(), "pid", os.Getpid())
	for {
		conn, err := ln.AcceptUnix()
		if err != nil {
			if ctx.Err() != nil {
				// The children keep serving: they are in their own sessions.
				m.log.Info("mounter stopping; running mounts keep serving")
				return nil
			}
			return fmt.Errorf("mounter: %w", err)
		}
		go m.serve(conn)
	}
}

// serve handles one request: start the child, answer with its verdict.
func (m *mounter) serve(conn *net.UnixConn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(m.mountTimeout + 10*time.Second))
	req, fuseFD, err := mountproto.Receive(conn)
	if err == nil {
		err = m.checkPaths(req)
		if err != nil {
			fuseFD.Close()
		}
	}
	if err != nil {
		m.log.Warn("bad request", "err", err)
		mountproto.Answer(conn, mountproto.Reply{Error: err.Error()})
		return
	}
	reply := m.start(req, fuseFD)
	if err := mountproto.Answer(conn, reply); err != nil {
		m.log.Warn("answering the plugin", "mount", req.MountID, "err", err)
	}
}

// checkPaths keeps every file a request names inside --state-dir.
func (m *mounter) checkPaths(req mountproto.Request) error {
	if m.stateDir == "" {
		return nil
	}
	for _, p := range []string{req.LogFile, req.CredentialsFile, req.OIDCTokenFile} {
		if p == "" {
			continue
		}
		rel, err := filepath.Rel(m.stateDir, filepath.Clean(p))
		if err != nil || !filepath.IsAbs(p) || rel == ".." || strings.HasPrefix(rel, "../") {
			return fmt.Errorf("mounter: %s is outside the state directory %s", p, m.stateDir)
		}
	}
	return nil
}

// start runs the child for req on fuseFD (which it closes) and waits for
// its verdict: "ok" once the mount is served, or its error line.
func (m *mounter) start(req mountproto.Request, fuseFD *os.File) mountproto.Reply {
	defer fuseFD.Close()
	logFile, err := os.OpenFile(req.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return mountproto.Reply{Error: fmt.Sprintf("mounter: opening the log file: %v", err)}
	}
	defer logFile.Close()
	verdictR, verdictW, err := os.Pipe()
	if err != nil {
		return mountproto.Reply{Error: err.Error()}
	}
	defer verdictR.Close()

	cmd := exec.Command(m.exe, m.childArgs(req)...)
	cmd.Env = m.childEnv(req)
	cmd.Dir = filepath.Dir(req.LogFile)
	// fd 3 is the verdict pipe (the background-mount protocol), fd 4 the FUSE fd.
	cmd.ExtraFiles = []*os.File{verdictW, fuseFD}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		verdictW.Close()
		return mountproto.Reply{Error: fmt.Sprintf("mounter: starting ossmount: %v", err)}
	}
	verdictW.Close()
	exited := make(chan struct{})
	go func() {
		err := cmd.Wait()
		m.log.Info("child ended", "mount", req.MountID, "pid", cmd.Process.Pid, "status", fmt.Sprint(err))
		close(exited)
	}()

	verdict := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(verdictR).ReadString('\n')
		verdict <- strings.TrimSpace(line)
	}()
	var line string
	select {
	case line = <-verdict:
	case <-time.After(m.mountTimeout):
		cmd.Process.Kill()
		return mountproto.Reply{Error: fmt.Sprintf("ossmount did not serve the mount within %s; see %s", m.mountTimeout, req.LogFile)}
	}
	switch {
	case line == "ok":
		m.log.Info("serving", "mount", req.MountID, "target", req.Target, "pid", cmd.Process.Pid)
		return mountproto.Reply{OK: true, PID: cmd.Process.Pid}
	case strings.HasPrefix(line, "error: "):
		<-exited
		return mountproto.Reply{Error: strings.TrimPrefix(line, "error: ")}
	default:
		<-exited
		return mountproto.Reply{Error: fmt.Sprintf("ossmount ended (%s) before serving; see %s", cmd.ProcessState, req.LogFile)}
	}
}

// childArgs is the child's command line: options only, never a secret.
func (m *mounter) childArgs(req mountproto.Request) []string {
	args := []string{"--foreground", "--log-file", req.LogFile}
	args = append(args, req.Args...)
	if req.CredentialsFile != "" {
		args = append(args, "--credentials-file", req.CredentialsFile)
	}
	return append(args, req.Target, "/dev/fd/4")
}

// childEnv is the child's whole environment: nothing of the mounter's own
// (no key can leak in), no ECS metadata, and the OIDC settings by path.
func (m *mounter) childEnv(req mountproto.Request) []string {
	env := []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + filepath.Dir(req.LogFile),
		"GOMEMLIMIT=" + cmp.Or(req.MemoryLimit, m.memoryLimit),
		"ALIBABA_CLOUD_ECS_METADATA_DISABLED=true",
		backgroundEnv + "=3",
	}
	if req.RoleARN != "" {
		env = append(env, "ALIBABA_CLOUD_ROLE_ARN="+req.RoleARN)
	}
	if req.OIDCTokenFile != "" {
		env = append(env, "ALIBABA_CLOUD_OIDC_PROVIDER_ARN="+req.OIDCProviderARN,
			"ALIBABA_CLOUD_OIDC_TOKEN_FILE="+req.OIDCTokenFile)
	}
	return env
}
