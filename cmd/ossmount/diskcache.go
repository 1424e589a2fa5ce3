package main

import (
	"fmt"
	"log/slog"

	"github.com/urfave/cli/v2"

	"github.com/ossmount/ossmount/diskcache"
	ossfs "github.com/ossmount/ossmount/fs"
)

// defaultCacheSize is --cache-size when only --cache-dir is given.
const defaultCacheSize = 10 << 30

// maxCacheSize is the largest --cache-size: 1 PiB, more than the disks of
// any node (the other size options stop at 1TiB).
const maxCacheSize = 1 << 50

// cacheFlags are the local disk cache's rows of the flag table.
func cacheFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "cache-dir", Usage: "keep the data read in this local directory, so reading it again costs no request (off when empty; one mount per directory)"},
		&cli.StringFlag{Name: "cache-size", Value: formatSize(defaultCacheSize), Usage: "most disk space the cache directory may use (du), e.g. 200GiB"},
	}
}

// cacheConfig reads --cache-dir and --cache-size; Dir is empty when the
// cache is off.
func cacheConfig(c *cli.Context, tgt target, logger *slog.Logger) (diskcache.Config, error) {
	dir := c.String("cache-dir")
	if dir == "" {
		if c.IsSet("cache-size") {
			return diskcache.Config{}, fmt.Errorf("--cache-size needs --cache-dir: the cache is off without a directory")
		}
		return diskcache.Config{}, nil
	}
	size, err := parseSizeUpTo("cache-size", c.String("cache-size"), maxCacheSize)
	if err != nil {
		return diskcache.Config{}, err
	}
	return diskcache.Config{Dir: dir, Size: size, Bucket: tgt.Bucket, Logger: logger}, nil
}

// openCache stacks the disk cache over store when it is on. The closer
// waits for queued writes and frees the directory's lock.
func openCache(cfg diskcache.Config, store ossfs.Store) (ossfs.Store, func(), error) {
	if cfg.Dir == "" {
		return store, func() {}, nil
	}
	cache, err := diskcache.New(cfg, store)
	if err != nil {
		return nil, nil, fmt.Errorf("--cache-dir: %w", err)
	}
	return cache, func() { cache.Close() }, nil
}

var _ ossfs.Store = (*diskcache.Cache)(nil)
