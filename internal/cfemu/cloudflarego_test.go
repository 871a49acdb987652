package cfemu_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/cloudflare/cloudflare-go"
	"github.com/stretchr/testify/require"

	"github.com/dome/infra/internal/cfemu"
)

// TestCloudflareGoClient drives the emulator with the real cloudflare-go
// client, configured as for the real API except for its base URL. Each
// part has its own client (the client throttles itself to 4 requests per
// second), so the parts run in parallel against one emulator.
func TestCloudflareGoClient(t *testing.T) {
	emu, err := cfemu.New(cfemu.Config{Token: "test-token", AccountID: "acc"})
	require.NoError(t, err)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	rc := cloudflare.AccountIdentifier("acc")
	ctx := context.Background()
	newClient := func(t *testing.T) *cloudflare.API {
		api, err := cloudflare.NewWithAPIToken("test-token", cloudflare.BaseURL(srv.URL+"/client/v4"))
		require.NoError(t, err)
		return api
	}

	t.Run("token", func(t *testing.T) {
		t.Parallel()
		res, err := newClient(t).VerifyAPIToken(ctx)
		require.NoError(t, err)
		require.Equal(t, "active", res.Status)
		bad, err := cloudflare.NewWithAPIToken("wrong", cloudflare.BaseURL(srv.URL+"/client/v4"))
		require.NoError(t, err)
		_, _, err = bad.ListD1Databases(ctx, rc, cloudflare.ListD1DatabasesParams{})
		require.Contains(t, codes(err), 10000)
	})

	t.Run("d1", func(t *testing.T) {
		t.Parallel()
		api := newClient(t)
		db, err := api.CreateD1Database(ctx, rc, cloudflare.CreateD1DatabaseParams{Name: "main"})
		require.NoError(t, err)
		require.NotEmpty(t, db.UUID)
		require.Equal(t, "production", db.Version)
		require.NotNil(t, db.CreatedAt)
		_, err = api.CreateD1Database(ctx, rc, cloudflare.CreateD1DatabaseParams{Name: "main"})
		require.Contains(t, codes(err), 7502)
		got, err := api.GetD1Database(ctx, rc, db.UUID)
		require.NoError(t, err)
		require.Equal(t, "main", got.Name)
		list, info, err := api.ListD1Databases(ctx, rc, cloudflare.ListD1DatabasesParams{Name: "main"})
		require.NoError(t, err)
		require.Len(t, list, 1)
		require.Equal(t, 1, info.Total)
		require.NoError(t, api.DeleteD1Database(ctx, rc, db.UUID))
		_, err = api.GetD1Database(ctx, rc, db.UUID)
		var nf *cloudflare.NotFoundError
		require.ErrorAs(t, err, &nf)
		require.Contains(t, codes(err), 7404)
	})

	t.Run("r2", func(t *testing.T) {
		t.Parallel()
		api := newClient(t)
		b, err := api.CreateR2Bucket(ctx, rc, cloudflare.CreateR2BucketParameters{Name: "assets", LocationHint: "WEUR"})
		require.NoError(t, err)
		require.Equal(t, "WEUR", b.Location)
		_, err = api.CreateR2Bucket(ctx, rc, cloudflare.CreateR2BucketParameters{Name: "assets"})
		require.Contains(t, codes(err), 10004)
		got, err := api.GetR2Bucket(ctx, rc, "assets")
		require.NoError(t, err)
		require.Equal(t, "assets", got.Name)
		require.NotNil(t, got.CreationDate)
		list, err := api.ListR2Buckets(ctx, rc, cloudflare.ListR2BucketsParams{})
		require.NoError(t, err)
		require.Len(t, list, 1)
		require.NoError(t, api.DeleteR2Bucket(ctx, rc, "assets"))
		_, err = api.GetR2Bucket(ctx, rc, "assets")
		require.Contains(t, codes(err), 10006)
	})

	t.Run("queues and consumers", func(t *testing.T) {
		t.Parallel()
		api := newClient(t)
		q, err := api.CreateQueue(ctx, rc, cloudflare.CreateQueueParams{Name: "jobs"})
		require.NoError(t, err)
		require.NotEmpty(t, q.ID)
		_, err = api.CreateQueue(ctx, rc, cloudflare.CreateQueueParams{Name: "jobs"})
		require.Contains(t, codes(err), 11009)
		_, err = api.CreateQueue(ctx, rc, cloudflare.CreateQueueParams{Name: "jobs-dlq"})
		require.NoError(t, err)

		_, err = api.UploadWorker(ctx, rc, cloudflare.CreateWorkerParams{
			ScriptName: "consumer", Module: true,
			Script: "export default { async queue(batch) {} }",
			Bindings: map[string]cloudflare.WorkerBinding{
				"JOBS": cloudflare.WorkerQueueBinding{Binding: "JOBS", Queue: "jobs"},
			},
		})
		require.NoError(t, err)

		cons, err := api.CreateQueueConsumer(ctx, rc, cloudflare.CreateQueueConsumerParams{QueueName: "jobs", Consumer: cloudflare.QueueConsumer{
			ScriptName: "consumer", DeadLetterQueue: "jobs-dlq",
			Settings: cloudflare.QueueConsumerSettings{BatchSize: 10, MaxRetires: 3, MaxWaitTime: 5000},
		}})
		require.NoError(t, err)
		require.Equal(t, "consumer", cons.ScriptName)
		require.Equal(t, "jobs-dlq", cons.DeadLetterQueue)

		got, err := api.GetQueue(ctx, rc, "jobs")
		require.NoError(t, err)
		require.Equal(t, q.ID, got.ID)
		require.Equal(t, 1, got.ProducersTotalCount)
		require.Equal(t, "consumer", got.Producers[0].Service)
		require.Equal(t, 1, got.ConsumersTotalCount)

		consumers, _, err := api.ListQueueConsumers(ctx, rc, cloudflare.ListQueueConsumersParams{QueueName: "jobs"})
		require.NoError(t, err)
		require.Len(t, consumers, 1)
		updated, err := api.UpdateQueueConsumer(ctx, rc, cloudflare.UpdateQueueConsumerParams{QueueName: "jobs", Consumer: cloudflare.QueueConsumer{
			Name: "consumer", ScriptName: "consumer", Settings: cloudflare.QueueConsumerSettings{BatchSize: 50},
		}})
		require.NoError(t, err)
		require.Equal(t, 50, updated.Settings.BatchSize)

		err = api.DeleteQueue(ctx, rc, "jobs")
		require.Contains(t, codes(err), 11005, "a queue with a consumer stays")
		require.NoError(t, api.DeleteQueueConsumer(ctx, rc, cloudflare.DeleteQueueConsumerParams{QueueName: "jobs", ConsumerName: "consumer"}))

		renamed, err := api.UpdateQueue(ctx, rc, cloudflare.UpdateQueueParams{Name: "jobs", UpdatedName: "jobs-v2"})
		require.NoError(t, err)
		require.Equal(t, "jobs-v2", renamed.Name)
		queues, _, err := api.ListQueues(ctx, rc, cloudflare.ListQueuesParams{})
		require.NoError(t, err)
		require.Len(t, queues, 2)
		require.NoError(t, api.DeleteQueue(ctx, rc, "jobs-v2"))
		_, err = api.GetQueue(ctx, rc, "jobs-v2")
		require.Contains(t, codes(err), 11000)
	})

	t.Run("kv", func(t *testing.T) {
		t.Parallel()
		api := newClient(t)
		ns, err := api.CreateWorkersKVNamespace(ctx, rc, cloudflare.CreateWorkersKVNamespaceParams{Title: "sessions"})
		require.NoError(t, err)
		require.NotEmpty(t, ns.Result.ID)
		_, err = api.CreateWorkersKVNamespace(ctx, rc, cloudflare.CreateWorkersKVNamespaceParams{Title: "sessions"})
		require.Contains(t, codes(err), 10014)
		_, err = api.UpdateWorkersKVNamespace(ctx, rc, cloudflare.UpdateWorkersKVNamespaceParams{NamespaceID: ns.Result.ID, Title: "sessions-v2"})
		require.NoError(t, err)
		list, _, err := api.ListWorkersKVNamespaces(ctx, rc, cloudflare.ListWorkersKVNamespacesParams{})
		require.NoError(t, err)
		require.Equal(t, []cloudflare.WorkersKVNamespace{{ID: ns.Result.ID, Title: "sessions-v2"}}, list)
		_, err = api.DeleteWorkersKVNamespace(ctx, rc, ns.Result.ID)
		require.NoError(t, err)
		_, err = api.DeleteWorkersKVNamespace(ctx, rc, ns.Result.ID)
		require.Contains(t, codes(err), 10013)
	})

	t.Run("workers", func(t *testing.T) {
		t.Parallel()
		api := newClient(t)
		db, err := api.CreateD1Database(ctx, rc, cloudflare.CreateD1DatabaseParams{Name: "worker-db"})
		require.NoError(t, err)
		_, err = api.UploadWorker(ctx, rc, cloudflare.CreateWorkerParams{
			ScriptName: "api", Module: true, CompatibilityDate: "2024-09-23",
			Script: "export default { fetch() { return new Response('ok') } }",
			Bindings: map[string]cloudflare.WorkerBinding{
				"DB":  cloudflare.WorkerD1DatabaseBinding{DatabaseID: db.UUID},
				"MSG": cloudflare.WorkerPlainTextBinding{Text: "hi"},
			},
		})
		require.NoError(t, err)
		_, err = api.UploadWorker(ctx, rc, cloudflare.CreateWorkerParams{
			ScriptName: "broken", Module: true, Script: "export default {}",
			Bindings: map[string]cloudflare.WorkerBinding{"DB": cloudflare.WorkerD1DatabaseBinding{DatabaseID: "missing"}},
		})
		require.Contains(t, codes(err), 10021)
		_, err = api.UploadWorker(ctx, rc, cloudflare.CreateWorkerParams{ScriptName: "plain", Script: "addEventListener('fetch', e => {})"})
		require.NoError(t, err, "a bare service-worker upload")

		bindings, err := api.ListWorkerBindings(ctx, rc, cloudflare.ListWorkerBindingsParams{ScriptName: "api"})
		require.NoError(t, err)
		require.Len(t, bindings.BindingList, 2)
		for _, b := range bindings.BindingList {
			if b.Name == "DB" {
				require.Equal(t, cloudflare.WorkerD1DatabaseBinding{DatabaseID: db.UUID}, b.Binding)
			}
		}
		content, err := api.GetWorkersScriptContent(ctx, rc, "api")
		require.NoError(t, err)
		require.Contains(t, content, "new Response('ok')")
		workers, _, err := api.ListWorkers(ctx, rc, cloudflare.ListWorkersParams{})
		require.NoError(t, err)
		var ids []string
		for _, w := range workers.WorkerList {
			ids = append(ids, w.ID)
		}
		require.Subset(t, ids, []string{"api", "plain"}) // other parts upload workers too

		crons, err := api.UpdateWorkerCronTriggers(ctx, rc, cloudflare.UpdateWorkerCronTriggersParams{ScriptName: "api", Crons: []cloudflare.WorkerCronTrigger{{Cron: "*/5 * * * *"}}})
		require.NoError(t, err)
		require.Len(t, crons, 1)
		crons, err = api.ListWorkerCronTriggers(ctx, rc, cloudflare.ListWorkerCronTriggersParams{ScriptName: "api"})
		require.NoError(t, err)
		require.Equal(t, "*/5 * * * *", crons[0].Cron)
		require.NotNil(t, crons[0].CreatedOn)

		require.NoError(t, api.DeleteWorker(ctx, rc, cloudflare.DeleteWorkerParams{ScriptName: "api"}))
		_, err = api.ListWorkerCronTriggers(ctx, rc, cloudflare.ListWorkerCronTriggersParams{ScriptName: "api"})
		require.Contains(t, codes(err), 10007)
	})
}

// codes returns the Cloudflare error codes carried by a cloudflare-go error.
func codes(err error) []int {
	var coded interface{ ErrorCodes() []int }
	if errors.As(err, &coded) {
		return coded.ErrorCodes()
	}
	var plain *cloudflare.Error
	if errors.As(err, &plain) {
		return plain.ErrorCodes
	}
	return nil
}
