package csi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// mountState is the directory of one published target under
// StateDir/mounts/ID: the pod's token or credentials file and the log,
// owned by the mounter's uid (the child reads them), and record.json,
// which lets a restarted plugin find its mounts.
type mountState struct {
	id  string
	dir string
	uid int // the mounter's uid and gid: owner of the files the child reads
	gid int
}

// record is what record.json keeps about a publish.
type record struct {
	VolumeID   string `json:"volumeID"`
	TargetPath string `json:"targetPath"`
}

// mountID names the state of a target path: stable, fixed length, no
// path characters.
func mountID(targetPath string) string {
	sum := sha256.Sum256([]byte(filepath.Clean(targetPath)))
	return hex.EncodeToString(sum[:12])
}

func (d *Driver) stateFor(targetPath string) mountState {
	id := mountID(targetPath)
	return mountState{id: id, dir: filepath.Join(d.cfg.StateDir, "mounts", id)}
}

// mounterOwner is the uid and gid that own the mounter's socket: the
// identity its children run as.
func (d *Driver) mounterOwner() (int, int, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(d.cfg.MounterSocket, &st); err != nil {
		return 0, 0, fmt.Errorf("the mounter is not running (%s: %w)", d.cfg.MounterSocket, err)
	}
	return int(st.Uid), int(st.Gid), nil
}

// create makes the directory (0700, owned by the mounter) and the record.
func (s mountState) create(rec record) error {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return err
	}
	if err := os.Chown(s.dir, s.uid, s.gid); err != nil {
		return err
	}
	data, _ := json.Marshal(rec)
	return writeAtomic(filepath.Join(s.dir, "record.json"), data, 0, 0)
}

func (s mountState) read() (record, error) {
	var rec record
	data, err := os.ReadFile(filepath.Join(s.dir, "record.json"))
	if err != nil {
		return rec, err
	}
	return rec, json.Unmarshal(data, &rec)
}

func (s mountState) tokenFile() string       { return filepath.Join(s.dir, "token") }
func (s mountState) credentialsFile() string { return filepath.Join(s.dir, "credentials") }
func (s mountState) logFile() string         { return filepath.Join(s.dir, "ossmount.log") }

// writeToken replaces the token file atomically: the child re-reads it at
// each renewal and must never see half a token.
func (s mountState) writeToken(token string) error {
	return writeAtomic(s.tokenFile(), []byte(token), s.uid, s.gid)
}

// writeCredentials writes the AccessKey as an INI credentials file (the
// format of README's /etc/fstab section), never an argument or variable.
func (s mountState) writeCredentials(id, secret string) error {
	if strings.ContainsAny(id+secret, "\r\n") {
		return errors.New("the AccessKey in the publish secret contains a line break")
	}
	ini := "[default]\ntype = access_key\naccess_key_id = " + id + "\naccess_key_secret = " + secret + "\n"
	return writeAtomic(s.credentialsFile(), []byte(ini), s.uid, s.gid)
}

func (s mountState) remove() error { return os.RemoveAll(s.dir) }

// writeAtomic writes data to a 0600 file owned by uid:gid in path's
// directory and renames it over path.
func writeAtomic(path string, data []byte, uid, gid int) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chown(uid, gid)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	return err
}
