package csi_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"
	"github.com/kubernetes-csi/csi-test/v5/pkg/sanity"
	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ossmount/ossmount/csi"
	"github.com/ossmount/ossmount/test/emulator"
)

// The CSI sanity suite against the real node plugin (package csi, in
// process) with the real mounter and emulator behind it. A test-only
// controller creates volumes on the emulator, and the Identity service
// announces it, so that the Node specs that publish really mount. The
// suite's own Controller specs are skipped: they would test that fake.
func TestSanity(t *testing.T) {
	n := newNode(t, emulator.Config{})
	n.emu.PutObject("sanity", "data/f", []byte("sanity"))
	driver, err := csi.New(csi.Config{NodeID: "sanity-node", MounterSocket: n.socket, StateDir: n.stateDir})
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(n.stateDir, "sanity.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	csipb.RegisterIdentityServer(srv, withController{driver})
	csipb.RegisterNodeServer(srv, driver)
	csipb.RegisterControllerServer(srv, &emulatorController{volumeContext: n.volumeContext("sanity:/data", "token-sanity")})
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)

	cfg := sanity.NewTestConfig()
	cfg.Address = "unix://" + sock
	cfg.TargetPath = filepath.Join(n.pods, "sanity-target")
	cfg.StagingPath = filepath.Join(n.pods, "sanity-staging")
	t.Cleanup(func() { cleanupTarget(cfg.TargetPath + "/target") })

	sc := sanity.GinkgoTest(&cfg)
	gomega.RegisterFailHandler(ginkgo.Fail)
	suite, reporter := ginkgo.GinkgoConfiguration()
	suite.SkipStrings = []string{`\[Controller Server\]`, `\[GroupController`}
	reporter.NoColor = true
	ginkgo.RunSpecs(t, "ossmount CSI sanity", suite, reporter)
	sc.Finalize()
	if !slices.Contains(n.emu.OIDCTokens(), "token-sanity") {
		t.Errorf("no publish of the sanity run reached STS: the Node specs did not really mount")
	}
	if mountedUnder(n.pods) {
		t.Errorf("the sanity run left a mount under %s", n.pods)
	}
}

// withController is the plugin's Identity, also announcing the test
// controller.
type withController struct{ *csi.Driver }

func (w withController) GetPluginCapabilities(context.Context, *csipb.GetPluginCapabilitiesRequest) (*csipb.GetPluginCapabilitiesResponse, error) {
	return &csipb.GetPluginCapabilitiesResponse{Capabilities: []*csipb.PluginCapability{{
		Type: &csipb.PluginCapability_Service_{Service: &csipb.PluginCapability_Service{Type: csipb.PluginCapability_Service_CONTROLLER_SERVICE}},
	}}}, nil
}

// emulatorController creates every volume as the same prefix of the
// emulator, as a static PV would name it.
type emulatorController struct {
	csipb.UnimplementedControllerServer
	volumeContext map[string]string
}

func (c *emulatorController) CreateVolume(_ context.Context, req *csipb.CreateVolumeRequest) (*csipb.CreateVolumeResponse, error) {
	if req.GetName() == "" || len(req.GetVolumeCapabilities()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "name and capabilities are required")
	}
	return &csipb.CreateVolumeResponse{Volume: &csipb.Volume{VolumeId: "sanity-" + req.GetName(), VolumeContext: c.volumeContext}}, nil
}

func (c *emulatorController) DeleteVolume(_ context.Context, req *csipb.DeleteVolumeRequest) (*csipb.DeleteVolumeResponse, error) {
	if req.GetVolumeId() == "" {
		return nil, status.Error(codes.InvalidArgument, "volume ID missing")
	}
	return &csipb.DeleteVolumeResponse{}, nil
}

func (c *emulatorController) ControllerGetCapabilities(context.Context, *csipb.ControllerGetCapabilitiesRequest) (*csipb.ControllerGetCapabilitiesResponse, error) {
	return &csipb.ControllerGetCapabilitiesResponse{Capabilities: []*csipb.ControllerServiceCapability{{
		Type: &csipb.ControllerServiceCapability_Rpc{Rpc: &csipb.ControllerServiceCapability_RPC{Type: csipb.ControllerServiceCapability_RPC_CREATE_DELETE_VOLUME}},
	}}}, nil
}

// mountedUnder reports whether anything is mounted below dir.
func mountedUnder(dir string) bool {
	data, _ := os.ReadFile("/proc/self/mountinfo")
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			return true
		}
	}
	return false
}
