package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	ossfs "github.com/ossmount/ossmount/fs"
	"github.com/ossmount/ossmount/keyindex"
	"github.com/ossmount/ossmount/oss"
)

// loadManifest reads --manifest (nothing if path is "") and checks that it
// describes the mount target. It runs before anything touches the network
// or /dev/fuse, so a bad manifest leaves nothing behind.
func loadManifest(path string, tgt target) (*keyindex.Index, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--manifest: %w", err)
	}
	defer f.Close()
	m, err := keyindex.ReadManifest(f)
	if err != nil {
		return nil, fmt.Errorf("--manifest %s: %w; nothing was mounted", path, err)
	}
	taken := target{Bucket: m.Bucket, Prefix: m.Index.Root()}
	if taken != tgt {
		return nil, fmt.Errorf("--manifest %s is a snapshot of %s, not of %s: mount the same BUCKET[:/PREFIX] it was taken of", path, taken, tgt)
	}
	return m.Index, nil
}

// metadataStore is the store fs mounts: the client, or an index of every
// key in front of it (--manifest, --prefetch-metadata).
func metadataStore(ctx context.Context, s settings, client *oss.Client, manifest *keyindex.Index, logger *slog.Logger) (ossfs.Store, error) {
	switch {
	case manifest != nil:
		if err := checkManifestReadable(ctx, client, manifest, logger); err != nil {
			return nil, err
		}
		logger.Info("mounting the manifest's objects; no LIST is sent", "keys", manifest.Len())
		return keyindex.New(keyindex.Config{TTL: keyindex.Forever, Logger: logger}, manifest, client)
	case s.prefetchMetadata:
		logger.Info("listing every key under the prefix before mounting", "bucket", s.target.Bucket, "prefix", s.target.Prefix)
		x, err := keyindex.Build(ctx, client, s.target.Prefix, keyindex.BuildConfig{Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("--prefetch-metadata: listing %s: %w", s.target, err)
		}
		return keyindex.New(keyindex.Config{TTL: s.fs.MetadataTTL, Logger: logger}, x, client)
	}
	return client, nil
}

// checkManifestReadable proves the credentials can read the bucket with
// one 1-byte GET of the manifest's first non-empty object, at its recorded
// ETag (a manifest mount sends no LIST). An object changed since the
// snapshot is a warning: reads of that object fail, the others work.
func checkManifestReadable(ctx context.Context, client *oss.Client, x *keyindex.Index, logger *slog.Logger) error {
	for i := range x.Len() {
		o := x.Object(i)
		if o.Size == 0 {
			continue
		}
		body, err := client.GetRange(ctx, o.Key, o.ETag, 0, 1)
		if err == nil {
			_, err = io.Copy(io.Discard, body)
			body.Close()
		}
		switch {
		case err == nil:
		case errors.Is(err, oss.ErrPreconditionFailed):
			logger.Warn("object changed since the snapshot; its reads will fail with ESTALE", "key", o.Key, "etag", o.ETag)
		case errors.Is(err, oss.ErrNotFound):
			logger.Warn("object deleted since the snapshot (or the bucket is gone); its reads will fail", "key", o.Key)
		case errors.Is(err, oss.ErrAccessDenied), errors.Is(err, oss.ErrCredentials):
			return fmt.Errorf("reading %q of the manifest was denied: the role's policy must allow oss:GetObject on the prefix (%w)", o.Key, err)
		default:
			return fmt.Errorf("reading %q of the manifest: %w", o.Key, err)
		}
		return nil
	}
	return nil
}
