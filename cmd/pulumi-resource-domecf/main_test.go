package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"
)

// The test binary doubles as the plugin: run with this variable set, it
// runs main instead of the tests, so the plugin protocol is tested without
// building a second binary.
const runAsPlugin = "DOMECF_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runAsPlugin) == "1" {
		os.Args = append(os.Args[:1], flagArgs()...)
		main()
		return
	}
	os.Exit(m.Run())
}

// flagArgs passes on what the test put after "--".
func flagArgs() []string {
	for i, a := range os.Args {
		if a == "--" {
			return os.Args[i+1:]
		}
	}
	return nil
}

func plugin(t *testing.T, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(t.Context(), os.Args[0], append([]string{"-test.run=^$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), runAsPlugin+"=1")
	return cmd
}

// The engine starts the plugin, reads the port it prints and speaks gRPC.
func TestPluginServesSchema(t *testing.T) {
	cmd := plugin(t)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	port := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		port <- strings.TrimSpace(line)
	}()
	var addr string
	select {
	case addr = <-port:
	case <-time.After(30 * time.Second):
		t.Fatal("the plugin printed no port")
	}
	conn, err := grpc.NewClient("127.0.0.1:"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	client := pulumirpc.NewResourceProviderClient(conn)

	info, err := client.GetPluginInfo(t.Context(), &emptypb.Empty{})
	require.NoError(t, err)
	require.NotEmpty(t, info.GetVersion())

	resp, err := client.GetSchema(t.Context(), &pulumirpc.GetSchemaRequest{})
	require.NoError(t, err)
	requireSchema(t, []byte(resp.GetSchema()))
}

func TestSchemaFlag(t *testing.T) {
	out, err := plugin(t, "-schema").Output()
	require.NoError(t, err)
	requireSchema(t, out)
}

func requireSchema(t *testing.T, data []byte) {
	t.Helper()
	var spec struct {
		Name      string                     `json:"name"`
		Resources map[string]json.RawMessage `json:"resources"`
	}
	require.NoError(t, json.Unmarshal(data, &spec))
	require.Equal(t, "domecf", spec.Name)
	for _, tok := range []string{"domecf:index:WorkerScript", "domecf:index:VectorizeIndex", "domecf:index:QueueConsumer"} {
		require.Contains(t, spec.Resources, tok)
	}
}
