package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/urfave/cli/v2"
)

// runCheck is `ossmount check BUCKET[:/PREFIX]`: credentials and one listing,
// reported, without mounting.
func runCheck(c *cli.Context) error {
	s, sink, logger, err := listingSettings(c, errors.New("expected BUCKET[:/PREFIX]; see ossmount check --help"))
	if err != nil {
		return err
	}
	defer sink.Close()
	manager, _, page, err := connect(c.Context, s, logger)
	if err != nil {
		return err
	}
	defer manager.Close()
	st := manager.Status()
	fmt.Printf("source credential: %s\n", st.Source)
	fmt.Printf("assumed identity:  %s (%s)\n", st.AssumedRoleARN, st.AssumedRoleID)
	fmt.Printf("token expires:     %s (in %s)\n", st.Expiration.Format(time.RFC3339), time.Until(st.Expiration).Round(time.Second))
	fmt.Printf("listing %s: ok, %d objects and %d directories on the first page\n", s.target, len(page.Objects), len(page.CommonPrefixes))
	return nil
}

// listingSettings is how check and snapshot start: exactly one
// BUCKET[:/PREFIX] (else argErr), the logger, and the settings without the
// mount's metadata options, since both commands always list.
func listingSettings(c *cli.Context, argErr error) (settings, *logSink, *slog.Logger, error) {
	if c.NArg() != 1 {
		return settings{}, nil, nil, argErr
	}
	tgt, err := parseTarget(c.Args().Get(0))
	if err != nil {
		return settings{}, nil, nil, err
	}
	sink, logger, err := openLogger(c)
	if err != nil {
		return settings{}, nil, nil, err
	}
	s, err := readSettings(c, tgt, logger)
	if err != nil {
		sink.Close()
		return settings{}, nil, nil, err
	}
	s.manifest, s.prefetchMetadata = "", false
	return s, sink, logger, nil
}

// runPolicy is `ossmount policy BUCKET[:/PREFIX]`.
func runPolicy(c *cli.Context) error {
	if c.NArg() != 1 {
		return fmt.Errorf("expected BUCKET[:/PREFIX]; see ossmount policy --help")
	}
	tgt, err := parseTarget(c.Args().Get(0))
	if err != nil {
		return err
	}
	session, err := sessionPolicy("", tgt, nil)
	if err != nil {
		return err
	}
	show := func(title, doc string) error {
		if c.Bool("compact") {
			fmt.Println(doc)
			return nil
		}
		var out bytes.Buffer
		if err := json.Indent(&out, []byte(doc), "", "  "); err != nil {
			return err
		}
		if c.Bool("role-policy") {
			fmt.Fprintf(os.Stdout, "# %s\n", title)
		}
		fmt.Println(out.String())
		return nil
	}
	if err := show("session policy ossmount sends with AssumeRole", session); err != nil {
		return err
	}
	if !c.Bool("role-policy") {
		return nil
	}
	// The role's own permission policy must allow at least what the session
	// policy asks for (effective = role ∩ session); the same document serves.
	if err := show("permission policy to attach to the RAM role", session); err != nil {
		return err
	}
	trust := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::<ACCOUNT_ID>:root"]}}]}`
	return show("trust policy of the role (replace <ACCOUNT_ID>; the RAM user also needs AliyunSTSAssumeRoleAccess)", trust)
}
