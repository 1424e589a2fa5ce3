package main

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ossmount/ossmount/keyindex"
)

// snapshotCommand is `ossmount snapshot [options] BUCKET[:/PREFIX]`: the
// mount's connection options plus --output.
func snapshotCommand(flags []cli.Flag) *cli.Command {
	return &cli.Command{
		Name:  "snapshot",
		Usage: "write a manifest of every object under BUCKET[:/PREFIX] (key, size, ETag, last-modified) for --manifest",
		Description: "The manifest goes to stdout, or to --output FILE (gzip-compressed when FILE ends in .gz;\n" +
			"written to a temporary name and renamed, so FILE is complete or absent). Options go before BUCKET.\n" +
			"The format (\"# ossmount-manifest v1\", one escaped tab-separated line per object) is in the README.",
		ArgsUsage: "BUCKET[:/PREFIX]",
		Flags: slices.Concat(flags, []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the manifest to `FILE` instead of stdout (gzip if it ends in .gz)"},
		}),
		Action: runSnapshot,
	}
}

func runSnapshot(c *cli.Context) error {
	s, sink, logger, err := listingSettings(c, fmt.Errorf("expected BUCKET[:/PREFIX] after the options, got %d argument(s): ossmount snapshot [--output FILE] BUCKET[:/PREFIX]", c.NArg()))
	if err != nil {
		return err
	}
	defer sink.Close()
	tgt := s.target
	manager, client, _, err := connect(c.Context, s, logger)
	if err != nil {
		return err
	}
	defer manager.Close()
	x, err := keyindex.Build(c.Context, client, tgt.Prefix, keyindex.BuildConfig{Logger: logger})
	if err != nil {
		return fmt.Errorf("listing %s: %w", tgt, err)
	}
	out := c.String("output")
	if out == "" {
		w := bufio.NewWriter(os.Stdout)
		if err := keyindex.WriteManifest(w, tgt.Bucket, x); err != nil {
			return fmt.Errorf("writing the manifest: %w", err)
		}
		return w.Flush()
	}
	if err := writeManifestFile(out, tgt.Bucket, x); err != nil {
		return err
	}
	logger.Info("manifest written", "file", out, "keys", x.Len())
	return nil
}

// writeManifestFile writes the manifest next to path and renames it into
// place, so that path is either complete or untouched.
func writeManifestFile(path, bucket string, x *keyindex.Index) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("--output: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename, nothing to remove
	var w io.Writer = tmp
	var zw *gzip.Writer
	if strings.HasSuffix(path, ".gz") {
		zw = gzip.NewWriter(tmp)
		w = zw
	}
	err = keyindex.WriteManifest(w, bucket, x)
	if err == nil && zw != nil {
		err = zw.Close()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("writing the manifest to %s: %w", path, err)
	}
	return nil
}
