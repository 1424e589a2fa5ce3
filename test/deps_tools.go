//go:build tools

// Package test pins modules that are used only by tests and the emulator as
// oracles (the official SDKs), so that `go mod tidy` keeps them in go.mod.
package test

import (
	_ "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	_ "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/signer"
	_ "github.com/aliyun/credentials-go/credentials"
	_ "github.com/hanwen/go-fuse/v2/fs"
	_ "github.com/hashicorp/golang-lru/v2"
	_ "github.com/urfave/cli/v2"
	_ "golang.org/x/sync/singleflight"
)
