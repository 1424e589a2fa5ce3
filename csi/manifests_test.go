package csi

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"sigs.k8s.io/yaml"
)

const manifestDir = "../deploy/kubernetes"

// manifest is one YAML document of deploy/kubernetes.
type manifest struct {
	file string
	kind string
	obj  any
}

// readManifests decodes every document of every YAML file under
// deploy/kubernetes strictly (an unknown or misspelt field fails) into the
// k8s.io/api type its kind names.
func readManifests(t *testing.T) []manifest {
	t.Helper()
	var files []string
	filepath.WalkDir(manifestDir, func(path string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".yaml") && filepath.Base(path) != "kustomization.yaml" {
			files = append(files, path)
		}
		return err
	})
	if len(files) < 6 {
		t.Fatalf("found %d manifests under %s", len(files), manifestDir)
	}
	var out []manifest
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range regexp.MustCompile(`(?m)^---$`).Split(string(data), -1) {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			var meta struct{ APIVersion, Kind string }
			if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
				t.Fatalf("%s doc %d: %v", file, i, err)
			}
			var obj any
			switch meta.APIVersion + " " + meta.Kind {
			case "storage.k8s.io/v1 CSIDriver":
				obj = &storagev1.CSIDriver{}
			case "apps/v1 DaemonSet":
				obj = &appsv1.DaemonSet{}
			case "batch/v1 Job":
				obj = &batchv1.Job{}
			case "v1 ServiceAccount":
				obj = &corev1.ServiceAccount{}
			case "v1 Secret":
				obj = &corev1.Secret{}
			case "v1 PersistentVolume":
				obj = &corev1.PersistentVolume{}
			case "v1 PersistentVolumeClaim":
				obj = &corev1.PersistentVolumeClaim{}
			default:
				t.Fatalf("%s doc %d: unexpected %s %s", file, i, meta.APIVersion, meta.Kind)
			}
			if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
				t.Fatalf("%s doc %d (%s): %v", file, i, meta.Kind, err)
			}
			out = append(out, manifest{file: file, kind: meta.Kind, obj: obj})
		}
	}
	return out
}

// Every manifest parses as the type it claims; the CSIDriver asks for what
// the plugin needs; the DaemonSets run what the Dockerfile builds with
// flags those binaries have; each volume's attributes and mount options
// pass the plugin's own checks.
func TestManifests(t *testing.T) {
	flags := binaryFlags(t)
	kinds := map[string]int{}
	for _, m := range readManifests(t) {
		kinds[m.kind]++
		switch o := m.obj.(type) {
		case *storagev1.CSIDriver:
			checkCSIDriver(t, o)
		case *appsv1.DaemonSet:
			checkDaemonSet(t, o, flags)
		case *corev1.PersistentVolume:
			c := o.Spec.CSI
			if c == nil || c.Driver != DriverName {
				t.Errorf("%s: PV %s is not for %s", m.file, o.Name, DriverName)
				continue
			}
			secrets := map[string]string{}
			if c.NodePublishSecretRef != nil {
				secrets = map[string]string{"akId": "id", "akSecret": "secret"}
			}
			checkVolume(t, m.file, c.VolumeHandle, c.VolumeAttributes, o.Spec.MountOptions, secrets)
		case *batchv1.Job:
			for _, v := range o.Spec.Template.Spec.Volumes {
				if v.CSI != nil {
					if v.CSI.Driver != DriverName {
						t.Errorf("%s: inline volume for driver %q", m.file, v.CSI.Driver)
					}
					checkVolume(t, m.file, "csi-generated-handle", v.CSI.VolumeAttributes, nil, nil)
				}
			}
		}
	}
	for _, k := range []string{"CSIDriver", "DaemonSet", "ServiceAccount", "PersistentVolume", "PersistentVolumeClaim", "Job", "Secret"} {
		if kinds[k] == 0 {
			t.Errorf("no %s among the manifests", k)
		}
	}
	if kinds["DaemonSet"] != 2 {
		t.Errorf("%d DaemonSets, want the node plugin and the mounter", kinds["DaemonSet"])
	}
}

func checkCSIDriver(t *testing.T, d *storagev1.CSIDriver) {
	s := d.Spec
	switch {
	case d.Name != DriverName:
		t.Errorf("CSIDriver name %q, want %q", d.Name, DriverName)
	case len(s.TokenRequests) != 1 || s.TokenRequests[0].Audience != TokenAudience:
		t.Errorf("tokenRequests %+v, want audience %s", s.TokenRequests, TokenAudience)
	case s.RequiresRepublish == nil || !*s.RequiresRepublish:
		t.Errorf("requiresRepublish must be true (fresh tokens)")
	case s.PodInfoOnMount == nil || !*s.PodInfoOnMount:
		t.Errorf("podInfoOnMount must be true")
	case s.AttachRequired == nil || *s.AttachRequired:
		t.Errorf("attachRequired must be false: there is no controller")
	case !slices.Contains(s.VolumeLifecycleModes, storagev1.VolumeLifecyclePersistent) || !slices.Contains(s.VolumeLifecycleModes, storagev1.VolumeLifecycleEphemeral):
		t.Errorf("volumeLifecycleModes %v, want Persistent and Ephemeral", s.VolumeLifecycleModes)
	}
}

// sidecarFlags are the flags of the sidecar images the node plugin uses
// (their --help), so a typo fails here, not on a node.
var sidecarFlags = map[string][]string{
	"registry.k8s.io/sig-storage/csi-node-driver-registrar": {"csi-address", "kubelet-registration-path", "v", "health-port", "http-endpoint", "timeout"},
	"registry.k8s.io/sig-storage/livenessprobe":             {"csi-address", "health-port", "http-endpoint", "probe-timeout", "v"},
}

func checkDaemonSet(t *testing.T, ds *appsv1.DaemonSet, flags map[string][]string) {
	spec := ds.Spec.Template.Spec
	if spec.PriorityClassName != "system-node-critical" {
		t.Errorf("%s: priorityClassName %q, want system-node-critical", ds.Name, spec.PriorityClassName)
	}
	var names []string
	for _, c := range spec.Containers {
		names = append(names, c.Name)
		repo, tag, _ := strings.Cut(c.Image, ":")
		if tag == "" || tag == "latest" {
			t.Errorf("%s/%s: image %q is not pinned to a version", ds.Name, c.Name, c.Image)
		}
		var known []string
		var args []string
		if repo == "ossmount/ossmount" {
			bin := filepath.Base(c.Command[0])
			if len(c.Command) != 1 || !strings.HasPrefix(c.Command[0], "/usr/local/bin/") || flags[bin] == nil {
				t.Errorf("%s/%s: command %v is not a binary the Dockerfile installs", ds.Name, c.Name, c.Command)
				continue
			}
			known, args = flags[bin], c.Args
			if bin == "ossmount" {
				if len(args) == 0 || args[0] != "mounter" {
					t.Errorf("%s/%s: ossmount args %v, want the mounter subcommand", ds.Name, c.Name, args)
					continue
				}
				known, args = flags["ossmount mounter"], args[1:]
			}
		} else if known = sidecarFlags[repo]; known == nil {
			t.Errorf("%s/%s: unknown image %q", ds.Name, c.Name, c.Image)
			continue
		} else {
			args = c.Args
		}
		for _, a := range args {
			name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if !strings.HasPrefix(a, "--") || !slices.Contains(known, name) {
				t.Errorf("%s/%s: argument %q is not a flag of %s", ds.Name, c.Name, a, c.Image)
			}
		}
	}
	switch ds.Name {
	case "ossmount-csi-node":
		for _, want := range []string{"ossmount-csi", "node-driver-registrar", "liveness-probe"} {
			if !slices.Contains(names, want) {
				t.Errorf("node plugin lacks container %s", want)
			}
		}
		if c := spec.Containers[0]; c.SecurityContext == nil || c.SecurityContext.Privileged == nil || !*c.SecurityContext.Privileged {
			t.Errorf("the plugin container must be privileged: it mounts")
		}
	case "ossmount-mounter":
		if ds.Spec.UpdateStrategy.Type != appsv1.OnDeleteDaemonSetStrategyType {
			t.Errorf("mounter updateStrategy %q, want OnDelete: a rollout would end every mount", ds.Spec.UpdateStrategy.Type)
		}
		psc, c := spec.SecurityContext, spec.Containers[0]
		if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
			t.Errorf("mounter must run as a non-root uid")
		}
		if sc := c.SecurityContext; sc == nil || sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") ||
			len(sc.Capabilities.Add) != 0 || (sc.Privileged != nil && *sc.Privileged) ||
			sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("mounter must drop all capabilities and never escalate")
		}
	default:
		t.Errorf("unexpected DaemonSet %s", ds.Name)
	}
}

// checkVolume runs a volume's attributes and mount options through the
// plugin's parser, with a service account token as kubelet would add.
func checkVolume(t *testing.T, file, handle string, attrs map[string]string, mountOptions []string, secrets map[string]string) {
	ctx := map[string]string{}
	for k, v := range attrs {
		ctx[k] = v
	}
	if len(secrets) == 0 {
		ctx[attrTokens] = `{"sts.aliyuncs.com":{"token":"header.payload.signature"}}`
	}
	req := &csipb.NodePublishVolumeRequest{VolumeId: handle, VolumeContext: ctx, Secrets: secrets,
		VolumeCapability: &csipb.VolumeCapability{AccessType: &csipb.VolumeCapability_Mount{
			Mount: &csipb.VolumeCapability_MountVolume{MountFlags: mountOptions}}}}
	if _, err := parseVolume(req); err != nil {
		t.Errorf("%s: volume %s: %v", file, handle, err)
	}
}

// binaryFlags builds ossmount and ossmount-csi and reads the flag names
// from their help: "ossmount-csi", "ossmount" (mount options) and
// "ossmount mounter". The Dockerfile must install both binaries.
func binaryFlags(t *testing.T) map[string][]string {
	t.Helper()
	dockerfile, err := os.ReadFile(filepath.Join(manifestDir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := map[string][]string{}
	for _, bin := range []string{"ossmount", "ossmount-csi"} {
		if !bytes.Contains(dockerfile, []byte("-o /out/"+bin+" ./cmd/"+bin)) || !bytes.Contains(dockerfile, []byte("/out/"+bin+" ")) {
			t.Errorf("the Dockerfile does not build and install %s", bin)
		}
		if b, err := exec.Command("go", "build", "-o", filepath.Join(dir, bin), "../cmd/"+bin).CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", bin, err, b)
		}
	}
	help := func(args ...string) []string {
		b, _ := exec.Command(args[0], args[1:]...).CombinedOutput()
		var names []string
		for _, m := range regexp.MustCompile(`(?m)^\s+--?([a-z][a-z0-9-]+)`).FindAllStringSubmatch(string(b), -1) {
			names = append(names, m[1])
		}
		return names
	}
	out["ossmount-csi"] = help(filepath.Join(dir, "ossmount-csi"), "-h")
	out["ossmount mounter"] = help(filepath.Join(dir, "ossmount"), "mounter", "--help")
	out["ossmount"] = []string{} // the mount command is never run directly by a manifest
	if len(out["ossmount-csi"]) < 5 || len(out["ossmount mounter"]) < 3 {
		t.Fatalf("could not read flags from --help: %v", out)
	}
	return out
}
