package oss

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// ObjectTypeSymlink is the ObjectType of a symbolic link made by
// PutSymlink: listings say <Type>Symlink</Type>, HeadObject says
// x-oss-object-type: Symlink (and describes the target).
const ObjectTypeSymlink = "Symlink"

// codeSymlinkTargetNotExist is OSS's answer to GetObject or HeadObject of
// a link whose target is missing.
const codeSymlinkTargetNotExist = "SymlinkTargetNotExist"

// Symlink returns the target key of the symbolic link key (GetSymlink,
// GET /key?symlink, which needs oss:GetObject on the link). The
// x-oss-symlink-target header is percent-decoded when it is a valid
// escape (SDKs that URL-encode it on PutSymlink send it so), else taken as
// it is. A missing key matches ErrNotFound; an object that is not a link
// is a *ServiceError (400 NotSymlink).
func (c *Client) Symlink(ctx context.Context, key string) (string, error) {
	if key == "" {
		return "", fmt.Errorf("oss: symlink: empty key")
	}
	var target string
	err := c.headerCall(ctx, &call{op: "symlink", method: http.MethodGet, key: key, query: "symlink"}, func(resp *http.Response) error {
		raw := resp.Header["X-Oss-Symlink-Target"]
		if len(raw) == 0 || raw[0] == "" {
			return fmt.Errorf("no x-oss-symlink-target in the answer")
		}
		target = decodeSymlinkTarget(raw[0])
		return nil
	})
	if err != nil {
		return "", err
	}
	c.log.Debug("oss: symlink", "op", "symlink", "key", key)
	return target, nil
}

// decodeSymlinkTarget undoes the percent-encoding some SDKs apply to the
// target; a value that is not a valid escape is a key as it is.
func decodeSymlinkTarget(v string) string {
	if d, err := url.PathUnescape(v); err == nil && d != "" {
		return d
	}
	return v
}
