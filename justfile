# Dome's Cloudflare infrastructure. Run `just` to list the recipes.
# Every Pulumi call names its stack; none relies on the selected stack.

set shell := ["bash", "-euo", "pipefail", "-c"]

# State lives in a file backend inside this folder unless PULUMI_BACKEND_URL
# names another (Pulumi Cloud, or an S3-compatible bucket such as R2).
export PULUMI_BACKEND_URL := env("PULUMI_BACKEND_URL", "file://" + justfile_directory() / ".state")

# The pulumi CLI: the one on PATH, else the one `just tools` builds.
pulumi := `command -v pulumi 2>/dev/null || echo .tools/bin/pulumi`

stacks := "dev staging prod"

pulumi_version := "v3.274.1"
staticcheck_version := "v0.8.2"

# Runs pulumi for a stack with its .env loaded: on <stack> <pulumi args> (see _pulumi).
on := just_executable() + " --justfile " + justfile() + " _pulumi"

# List the recipes.
default:
    @{{just_executable()}} --justfile {{justfile()}} --list --unsorted

# Build the companion provider plugin (found by Pulumi through Pulumi.yaml), the emulator and the program into ./bin, once.
build:
    @# Each rebuilds itself whenever the sources change (internal/fresh), so a preview needs no go build.
    @go run ./cmd/build bin/pulumi-resource-domecf=./cmd/pulumi-resource-domecf bin/cfemu=./cmd/cfemu bin/dome=.

# Build the pinned Pulumi CLI once per machine (about 8 minutes cold) and link it as .tools/bin/pulumi; recipes use it when no pulumi is on PATH.
tools:
    #!/usr/bin/env bash
    set -euo pipefail
    cache="${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/dome-infra/pulumi-{{pulumi_version}}"
    if [ ! -x "$cache/pulumi" ]; then
      echo "building the Pulumi CLI {{pulumi_version}} into $cache (once per machine)"
      (cd tools/pulumi && go build -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version={{pulumi_version}}" -o "$cache/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
    fi
    mkdir -p .tools/bin
    ln -sfn "$cache/pulumi" .tools/bin/pulumi
    echo ".tools/bin/pulumi -> $cache/pulumi ($(.tools/bin/pulumi version))"

# Install the local runtime's npm packages (miniflare and workerd, pinned for Node 20) from the committed lockfile; a no-op until the lockfile changes.
runtime-install:
    #!/usr/bin/env bash
    set -euo pipefail
    command -v node >/dev/null || { echo "error: the local runtime needs Node.js 20 or newer (node on PATH)" >&2; exit 1; }
    stamp=runtime/node_modules/.dome-lockfile
    if ! cmp -s runtime/package-lock.json "$stamp"; then
      (cd runtime && npm ci --ignore-scripts --no-audit --no-fund)
      cp runtime/package-lock.json "$stamp"
    fi

# Vet, lint, check formatting, and run every test, the end-to-end suite on the pinned Pulumi CLI and the local runtime included.
test: tools runtime-install
    go vet ./...
    go run honnef.co/go/tools/cmd/staticcheck@{{staticcheck_version}} ./...
    @unformatted="$(gofmt -l .)"; if [ -n "$unformatted" ]; then echo "gofmt needed:"; echo "$unformatted"; exit 1; fi
    go test -timeout 30m ./...

# Check a stack's configuration offline (no Pulumi CLI, no network), bundle every worker, and show what it deploys.
validate stack:
    @# bin/validate rebuilds itself whenever the sources change (internal/fresh).
    @[ -x bin/validate ] || go run ./cmd/build bin/validate=./cmd/validate
    @bin/validate {{stack}}

# Draw a stack's topology offline into .diagrams/<stack>.mmd (Mermaid) and .svg (Graphviz dot); --preview marks what `pulumi preview` would change (.diagrams/<stack>-preview.*).
diagram stack *preview: (_known stack)
    @mkdir -p .diagrams
    @case "{{preview}}" in \
      "") go run ./cmd/diagram -out .diagrams/{{stack}} {{stack}} ;; \
      --preview) {{just_executable()}} --justfile {{justfile()}} _diagram-preview {{stack}} -out .diagrams/{{stack}}-preview ;; \
      *) echo "error: unknown option '{{preview}}': just diagram <stack> [--preview]" >&2; exit 2 ;; \
    esac

# Redraw the checked-in picture of the dev stack: docs/topology.mmd, docs/topology.svg and README's Mermaid block.
diagram-docs:
    go run ./cmd/diagram -out docs/topology -readme README.md dev

# Run the local Cloudflare API emulator on https://127.0.0.1:8787 for the local stack, with its workers running (state in .emulator/; -runtime=false runs the API alone).
emulator *args: build runtime-install
    set -a; . ./.env.local; set +a; exec bin/cfemu -addr 127.0.0.1:8787 -tls -log -cert-dir .emulator -state .emulator/state.json -zone dome.example -runtime {{args}}

# Start the local stack over: remove the emulator's state (.emulator) and forget the local stack (its Pulumi.local.yaml stays), so the next just emulator and just deploy-local begin from nothing. Stop the emulator first.
reset-local: _require-pulumi
    @! curl -sk -o /dev/null --max-time 2 https://127.0.0.1:8787/ || { echo "error: an emulator answers on 127.0.0.1:8787: stop it first (Ctrl-C in its terminal)" >&2; exit 1; }
    rm -rf .emulator
    @if {{on}} local stack ls --json | grep -q '"name": *"local"'; then {{on}} local stack rm local --force --yes --preserve-config; fi
    @echo "the local stack starts over: run just emulator, then just deploy-local"

# Run a worker's scheduled handler now on the local runtime, for its first cron trigger or the expression given: just cron local dome-cron ['*/5 * * * *'].
cron stack worker expr="": (_known stack)
    @{{ if stack == "local" { "SSL_CERT_FILE=" + justfile_directory() / ".emulator/cfemu-cert.pem" } else { "" } }} go run ./cmd/cron -worker {{worker}} -cron "{{expr}}" {{stack}}

# Watch the workers' sources and upload each change to the local emulator's running workers in under a second (run just emulator and just deploy-local first).
dev stack="local": (_known stack)
    @{{ if stack == "local" { "SSL_CERT_FILE=" + justfile_directory() / ".emulator/cfemu-cert.pem" } else { "" } }} go run ./cmd/dev {{stack}}

# Deploy Dome's dev environment to the local emulator (run `just emulator` first), creating the local stack on first use.
deploy-local: _require-pulumi build
    @[ -f .emulator/cfemu-cert.pem ] || { echo "error: the emulator has not run here yet: start it with 'just emulator' in another terminal" >&2; exit 1; }
    @{{on}} local stack ls --json | grep -q '"name": *"local"' || {{just_executable()}} --justfile {{justfile()}} pulumi-stack-init local
    @{{just_executable()}} --justfile {{justfile()}} validate local
    @{{just_executable()}} --justfile {{justfile()}} _up local

# Create a stack in the state backend, with passphrase-encrypted secrets.
pulumi-stack-init stack: _require-pulumi (_known stack)
    @{{on}} {{stack}} stack init {{stack}} --secrets-provider passphrase

# Preview a stack's changes.
pulumi-preview stack: (_ready stack)
    @{{on}} {{stack}} preview --stack {{stack}} --diff

# Apply a stack's changes (Pulumi asks before it changes anything; prod asks more; without a terminal, DOME_CONFIRM=<stack> confirms).
pulumi-up stack: (_guard-prod stack) (_ready stack)
    @if [ "{{stack}}" = prod ] || [ ! -t 0 ] || [ -n "${DOME_PLAN:-}" ]; then {{just_executable()}} --justfile {{justfile()}} _confirm-and-up {{stack}}; else {{on}} {{stack}} up --stack {{stack}}; fi

# Destroy a stack's resources. Refused for prod.
pulumi-destroy stack: (_refuse-prod stack "destroy") (_ready stack)
    @{{on}} {{stack}} destroy --stack {{stack}}

# Update a stack's state from what Cloudflare holds (it changes no resource, so without a terminal it proceeds).
refresh stack: (_ready stack)
    @if [ -t 0 ]; then {{on}} {{stack}} refresh --stack {{stack}}; else {{on}} {{stack}} refresh --stack {{stack}} --yes; fi

# Print a stack's outputs as JSON (what CI reads).
outputs stack: _require-pulumi (_known stack)
    @{{on}} {{stack}} stack output --json --stack {{stack}}

# Match the account's existing resources to a stack's config and write import-<stack>.json for `pulumi import` (imports nothing).
import stack: (_known stack)
    {{ if stack == "local" { "SSL_CERT_FILE=" + justfile_directory() / ".emulator/cfemu-cert.pem" } else { "" } }} go run ./cmd/import {{stack}}

# Print each D1 database's applied and pending schema migrations (reads only).
db-status stack: (_known stack)
    @{{ if stack == "local" { "SSL_CERT_FILE=" + justfile_directory() / ".emulator/cfemu-cert.pem" } else { "" } }} go run ./cmd/dbstatus {{stack}}

# Validate, preview and, once confirmed, deploy dev.
deploy-dev: (_deploy "dev")

# Validate, preview and, once confirmed, deploy staging.
deploy-staging: (_deploy "staging")

# Validate, preview and deploy prod: type "prod" after reading the diff to confirm (in CI set DOME_CONFIRM_PROD=prod); refuses a dirty git tree.
deploy-prod: (_guard-prod "prod") (_deploy "prod")

# After an interrupted or failed deploy: remove a stale lock, settle pending creates, import what Cloudflare holds and the stack lacks, then preview.
recover stack: _require-pulumi (_known stack) build
    {{ if stack == "local" { "SSL_CERT_FILE=" + justfile_directory() / ".emulator/cfemu-cert.pem" } else { "" } }} go run ./cmd/recover -pulumi {{pulumi}} {{stack}}

# Deploy dev, then staging, then prod, each confirmed on its own (from CI: DOME_CONFIRM="dev staging" DOME_CONFIRM_PROD=prod).
deploy-all: deploy-dev deploy-staging deploy-prod

# Preview every environment.
preview-all:
    @for s in {{stacks}}; do {{just_executable()}} --justfile {{justfile()}} pulumi-preview "$s"; done

# Destroy dev, after asking.
destroy-dev: (_ready "dev")
    @if [ -t 0 ]; then read -r -p "Destroy every resource of the dev stack? [y/N] " answer && [[ "$answer" == [yY]* ]] || { echo "aborted" >&2; exit 1; }; \
     elif [ "${DOME_CONFIRM_DESTROY:-}" != dev ]; then echo "error: no terminal to confirm on: set DOME_CONFIRM_DESTROY=dev to destroy dev from CI" >&2; exit 1; fi
    @{{on}} dev destroy --stack dev --yes

# Show where Cloudflare no longer matches a stack's state, changing neither (a refresh in preview mode); exits non-zero with the diff on drift.
drift stack: (_ready stack)
    @{{on}} {{stack}} refresh --stack {{stack}} --preview-only --expect-no-changes --diff || { status=$?; \
      if [ "$status" = 7 ]; then echo "error: stack '{{stack}}' has drifted: Cloudflare no longer matches its state (the diff is above); 'just refresh {{stack}}' accepts Cloudflare's values, a deploy restores the program's" >&2; fi; exit "$status"; }

# Build the companion provider plugin and install the official Cloudflare plugin at the version go.mod pins.
plugins: _require-pulumi build
    {{pulumi}} plugin install resource cloudflare "$(go list -m -f '{{{{.Version}}' github.com/pulumi/pulumi-cloudflare/sdk/v5 | sed 's/^v//')"

# Check a deployed stack's outputs (DOME_OUTPUTS, else `just outputs <stack>`) against what Cloudflare holds.
smoke stack: (_known stack)
    @if [ -z "${DOME_OUTPUTS:-}" ]; then DOME_OUTPUTS="$({{just_executable()}} --justfile {{justfile()}} outputs {{stack}})"; export DOME_OUTPUTS; fi; \
     {{ if stack == "local" { "SSL_CERT_FILE=" + justfile_directory() / ".emulator/cfemu-cert.pem" } else { "" } }} go run ./cmd/smoke {{stack}}

# For CI: run a recipe and exit as it does, putting its output in the job summary and in .reports/<recipe>-<args>.md.
[positional-arguments]
ci-report +recipe:
    #!/usr/bin/env bash
    set -uo pipefail
    mkdir -p .reports
    name="$(IFS=-; echo "$*")"
    log="$(mktemp)"
    trap 'rm -f "$log"' EXIT
    {{just_executable()}} --justfile {{justfile()}} "$@" 2>&1 | tee "$log"
    status="${PIPESTATUS[0]}"
    if [ "$status" = 0 ]; then verdict=passed; else verdict="failed (exit $status)"; fi
    {
      printf '### `just %s`: %s\n\n' "$*" "$verdict"
      # What ran: this repository's commit and the services commit it built.
      if [ -n "${DOME_INFRA_COMMIT:-}${DOME_SERVICES_COMMIT:-}" ]; then printf '**Commits:** infra `%s`, services `%s`\n\n' "${DOME_INFRA_COMMIT:-not given}" "${DOME_SERVICES_COMMIT:-not given}"; fi
      # An allowance to lose data heads the report.
      if [ -n "${DOME_ALLOW_DELETE:-}" ]; then printf '**This run may delete or replace:** `%s` (DOME_ALLOW_DELETE)\n\n' "$DOME_ALLOW_DELETE"; fi
      printf '```diff\n'
      sed -e 's/\x1b\[[0-9;]*[A-Za-z]//g' "$log"
      printf '```\n'
    } > ".reports/$name.md"
    if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then cat ".reports/$name.md" >> "$GITHUB_STEP_SUMMARY"; fi
    exit "$status"

# For CI: after a stack's drift check (its outcome, success or failure, as an argument or in DOME_DRIFT_OUTCOME), open or update the one GitHub issue on that stack's drift, with the check's report, or close it once the stack is clean (gh, with GH_TOKEN and GH_REPO).
[positional-arguments]
ci-drift-issue stack outcome=env("DOME_DRIFT_OUTCOME", ""): (_known stack)
    #!/usr/bin/env bash
    set -euo pipefail
    stack="$1" outcome="$2"
    case "$outcome" in
      success|failure|skipped) ;;
      *) echo "error: the drift check's outcome is '$outcome': give success or failure (skipped: the check did not run), as an argument or in DOME_DRIFT_OUTCOME" >&2; exit 2 ;;
    esac
    : "${GH_REPO:?ci-drift-issue files the issue in the repository GH_REPO names (owner/name)}"
    title="drift: stack $stack"
    run=""
    if [ -n "${GITHUB_SERVER_URL:-}" ] && [ -n "${GITHUB_RUN_ID:-}" ]; then run="$GITHUB_SERVER_URL/$GH_REPO/actions/runs/$GITHUB_RUN_ID"; fi
    number="$(gh issue list --state open --limit 500 --json number,title --jq ".[] | select(.title == \"$title\") | .number" | head -n 1)"
    if [ "$outcome" = success ]; then
      if [ -z "$number" ]; then echo "stack $stack matches Cloudflare, and no drift issue is open"; exit 0; fi
      gh issue close "$number" --comment "The drift check of $(date -u +%F)${run:+ ([run]($run))} found stack \`$stack\` matching Cloudflare again: closing."
      echo "stack $stack matches Cloudflare again: closed #$number"
      exit 0
    fi
    report=".reports/drift-$stack.md"
    body="$(mktemp)"
    trap 'rm -f "$body"' EXIT
    {
      if [ -f "$report" ] && grep -q "has drifted: Cloudflare no longer matches its state" "$report"; then
        echo "Cloudflare no longer matches the Pulumi state of stack \`$stack\`: someone changed it outside Pulumi. The drift check's diff is below${run:+ ([run]($run))}."
      else
        echo "The drift check of stack \`$stack\` could not compare Cloudflare with its state${run:+ ([run]($run))}: its report, below, or the run's log says why."
      fi
      echo
      echo "To keep Cloudflare's values, \`just refresh $stack\` records them in the state; then change the YAML to match, so the next deploy does not revert them. To restore the program's, run the deploy workflow (or \`just deploy-$stack\`). This issue closes itself when a drift check finds the stack clean."
      echo
      if [ ! -f "$report" ]; then echo "(no report: the check did not run; see the run's log)"
      elif [ "$(wc -c < "$report")" -le 60000 ]; then cat "$report"
      else head -c 60000 "$report"; printf '\n```\n\n(cut here: the run'"'"'s summary has the whole report)\n'; fi
    } > "$body"
    if [ -z "$number" ]; then
      gh issue create --title "$title" --body-file "$body"
      echo "stack $stack: opened the drift issue"
    else
      gh issue edit "$number" --body-file "$body"
      gh issue comment "$number" --body "Still failing on $(date -u +%F)${run:+ ([run]($run))}: the description now holds this check's report."
      echo "stack $stack: updated drift issue #$number"
    fi

# For CI: validate a stack in a job that holds none of its credentials (no pull request gets prod's): where neither the environment nor .env.<stack> sets them, stand-ins of the right form take their place, since validation checks only their form.
ci-validate stack:
    #!/usr/bin/env bash
    set -euo pipefail
    stand_ins=()
    if [ ! -f ".env.{{stack}}" ]; then
      if [ -z "${CLOUDFLARE_API_TOKEN:-}" ]; then export CLOUDFLARE_API_TOKEN="$(printf '%040d' 0)"; stand_ins+=(CLOUDFLARE_API_TOKEN); fi
      if [ -z "${CLOUDFLARE_ACCOUNT_ID:-}" ]; then export CLOUDFLARE_ACCOUNT_ID="$(printf '%032d' 0)"; stand_ins+=(CLOUDFLARE_ACCOUNT_ID); fi
    fi
    if [ "${#stand_ins[@]}" -gt 0 ]; then
      echo "note: this job has no credentials for {{stack}}: ${stand_ins[*]} are stand-ins of the right form (validation checks only the form); the stack's preview and deploy use the real ones"
    fi
    exec {{just_executable()}} --justfile {{justfile()}} validate {{stack}}

# For CI: preview a stack and save what it would do as a plan, .plans/<stack>.json, which a deploy given DOME_PLAN applies exactly (the plan holds the stack's secrets, encrypted with its passphrase).
ci-plan stack: (_ready stack)
    @rm -f .plans/{{stack}}.json && mkdir -p .plans
    @{{on}} {{stack}} preview --stack {{stack}} --diff --save-plan .plans/{{stack}}.json
    @echo "plan saved to .plans/{{stack}}.json: DOME_PLAN=.plans/{{stack}}.json just pulumi-up {{stack}} applies exactly it, and refuses anything else"

# For CI: put ~/.pulumi/bin, where the official CLI installs and CI's cache restores it, first on PATH for the job's later steps.
ci-pulumi-path:
    @echo "$HOME/.pulumi/bin" >> "${GITHUB_PATH:?ci-pulumi-path writes the file GitHub Actions names in GITHUB_PATH}"
    @echo "$HOME/.pulumi/bin is first on PATH for the later steps"

# For CI: put a stack's outputs (`pulumi stack output --json`) in this step's output `json`, for later jobs.
ci-outputs stack:
    #!/usr/bin/env bash
    set -euo pipefail
    json="$({{just_executable()}} --justfile {{justfile()}} outputs {{stack}})"
    delimiter="dome-outputs-$RANDOM$RANDOM"
    { echo "json<<$delimiter"; echo "$json"; echo "$delimiter"; } >> "${GITHUB_OUTPUT:?ci-outputs writes the step output file GitHub Actions names in GITHUB_OUTPUT}"
    echo "$json"

# For CI: a stack's topology marked with its preview's changes, as Markdown in .reports/diagram-<stack>.md and in the job summary.
ci-diagram stack:
    #!/usr/bin/env bash
    set -euo pipefail
    mkdir -p .reports
    {{just_executable()}} --justfile {{justfile()}} _diagram-preview {{stack}} -markdown .reports/diagram-{{stack}}.md
    if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then cat .reports/diagram-{{stack}}.md >> "$GITHUB_STEP_SUMMARY"; fi

# For CI: refuse to go on unless this run's commit (DOME_INFRA_COMMIT) is main's newest: re-running an older run would deploy its older commit over a newer one.
ci-current:
    #!/usr/bin/env bash
    set -euo pipefail
    commit="${DOME_INFRA_COMMIT:?ci-current compares DOME_INFRA_COMMIT, the commit this run deploys, with main}"
    repo="${GH_REPO:?ci-current reads main of the repository GH_REPO names (owner/name)}"
    # The sha media type answers with the bare commit id.
    head="$(gh api "repos/$repo/commits/main" -H "Accept: application/vnd.github.sha")"
    if [ "$head" != "$commit" ]; then
      echo "error: refusing to deploy $commit: main's newest commit is $head. This run is older (a re-run of an earlier run) or of another branch, and would put older code over what main holds. Deploy main's newest commit instead: its own run (the push's) does, or Run workflow on main." >&2
      exit 1
    fi
    echo "$commit is main's newest commit"

_deploy stack: (_ready stack) (_confirm-and-up stack)

# Runs `pulumi preview --json` on a stack and hands it to cmd/diagram with the given flags: _diagram-preview <stack> <flags>.
_diagram-preview stack +flags: (_ready stack)
    #!/usr/bin/env bash
    set -uo pipefail
    json="$(mktemp)"
    trap 'rm -f "$json"' EXIT
    {{on}} {{stack}} preview --stack {{stack}} --json > "$json"
    status=$?
    # A failed preview still prints its JSON, whose errors cmd/diagram names.
    if [ -s "$json" ]; then go run ./cmd/diagram -preview "$json" {{flags}} {{stack}} || status=$?; fi
    exit "$status"

# Preview, ask (prod: the stack name, typed after reading the diff), then up. With DOME_PLAN naming a plan `just ci-plan` saved, what is confirmed is that
# plan's diff, read before, and the up applies exactly it: Pulumi stops at the first step the plan does not hold, and this says what to do.
_confirm-and-up stack:
    #!/usr/bin/env bash
    set -euo pipefail
    plan="${DOME_PLAN:-}"
    if [ -z "$plan" ]; then
      {{on}} {{stack}} preview --stack {{stack}} --diff
    elif [ ! -f "$plan" ]; then
      echo "error: DOME_PLAN names $plan, which does not exist: make it with 'just ci-plan {{stack}}' (in CI it is the plan-{{stack}} job's artifact), or unset DOME_PLAN to preview and deploy anew" >&2
      exit 1
    else
      echo "deploying {{stack}} as planned in $plan ('just ci-plan {{stack}}' showed its diff): Pulumi refuses any step the plan does not hold"
    fi
    if [ -t 0 ] && [ "{{stack}}" = prod ]; then read -r -p "Type the stack name to deploy these changes to production: " answer && [ "$answer" = prod ] || { echo "aborted: prod was not typed" >&2; exit 1; }
    elif [ -t 0 ]; then read -r -p "Deploy these changes to {{stack}}? [y/N] " answer && [[ "$answer" == [yY]* ]] || { echo "aborted" >&2; exit 1; }
    elif [ "{{stack}}" != prod ] && [[ " ${DOME_CONFIRM:-} " != *" {{stack}} "* ]]; then echo "error: no terminal to confirm on: set DOME_CONFIRM={{stack}} (or a list such as \"dev staging\") to deploy {{stack}} from CI" >&2; exit 1; fi
    # _up says, when the deploy stops, whether it went beyond the plan or met what an interrupted deploy left.
    if [ -z "$plan" ]; then exec {{just_executable()}} --justfile {{justfile()}} _up {{stack}} --skip-preview; fi
    exec {{just_executable()}} --justfile {{justfile()}} _up {{stack}} --skip-preview --plan "$plan"

# Up without asking. When it stops at what an interrupted deploy leaves behind (an answer lost on a flaky network), recover and up again,
# DOME_DEPLOY_TRIES times in all (default 5), adopting only what the account did not hold when the deploy began; then, or beyond an
# approved plan (DOME_PLAN), say what to do.
[positional-arguments]
_up stack *flags:
    #!/usr/bin/env bash
    set -uo pipefail
    log="$(mktemp)" before="$(mktemp)"
    trap 'rm -f "$log" "$before"' EXIT
    {{ if stack == "local" { "export SSL_CERT_FILE=" + justfile_directory() / ".emulator/cfemu-cert.pem" } else { "" } }}
    plan="${DOME_PLAN:-}" tries="${DOME_DEPLOY_TRIES:-5}"
    [[ "$tries" =~ ^[1-9][0-9]*$ ]] || { echo "error: DOME_DEPLOY_TRIES=$tries is not a number of tries (1 turns recovering off; the default is 5)" >&2; exit 2; }
    # A plan is applied once, as approved: recovering would change what it was made against.
    [ -z "$plan" ] || tries=1
    # What the account holds under the stack's names now: the deploy cannot create it, so recovering never adopts it on the deploy's behalf.
    if [ "$tries" -gt 1 ] && ! go run ./cmd/import -out "$before" {{stack}} > /dev/null; then
      echo "warning: could not list what the account holds (above), so a deploy that stops will not recover by itself" >&2
      tries=1
    fi
    for try in $(seq 1 "$tries"); do
      {{on}} {{stack}} up --stack {{stack}} --yes "${@:2}" 2>&1 | tee "$log"
      status="${PIPESTATUS[0]}"
      [ "$status" = 0 ] && exit 0
      if grep -q -e 'violates plan' -e 'is not allowed by the plan' "$log"; then
        echo "error: refusing to deploy {{stack}} beyond its approved plan: the deploy would do something the plan in $plan did not show; the resource and what differs are named above, after 'violates plan' or 'not allowed by the plan'. Every step applied was in the plan, and the first that was not stopped the deploy. The stack's state or code changed after the plan was made (another deploy, a refresh, a change in Cloudflare): make a new plan and have its diff approved again (in CI, Re-run all jobs of the newest run and approve after reading plan-{{stack}}'s summary; by hand, 'just ci-plan {{stack}}' then DOME_PLAN=$plan just pulumi-up {{stack}})." >&2
        exit "$status"
      fi
      # What an interrupted deploy leaves, and the lost answers that cause it: a create carried out, its answer, or the
      # official provider's read right after it (`error reading worker domain ...`), cut off. And protected resources of
      # a retired type, which recover drops from the state.
      grep -qE 'already exists|currently locked|pending operation|failed to load checkpoint|unexpected EOF|connection reset|could not read response body|error reading |no longer registers' "$log" || exit "$status"
      [ "$try" -lt "$tries" ] || break
      echo "the deploy of {{stack}} stopped at what an interrupted deploy leaves behind (above); recovering, then deploying again (try $((try + 1)) of $tries)" >&2
      # Its closing preview, or a listing, may meet the same flaky network: the next up says what is left either way.
      go run ./cmd/recover -pulumi {{pulumi}} -before "$before" {{stack}} || true
    done
    echo "error: the deploy of {{stack}} stopped at what an interrupted or failed deploy leaves behind (above): run 'just recover {{stack}}', which settles it and previews what is left, then deploy again" >&2
    exit "$status"

# Everything a Pulumi command needs: the CLI, the stack's file, the built plugin, a valid configuration with credentials, and the stack.
_ready stack: _require-pulumi (_known stack) build (validate stack)
    @{{on}} {{stack}} stack ls --json | grep -q '"name": *"{{stack}}"' || { echo "error: stack '{{stack}}' does not exist in $PULUMI_BACKEND_URL: run 'just pulumi-stack-init {{stack}}'" >&2; exit 1; }

# Runs pulumi with .env.<stack> loaded (variables already set win, as in the program) once the passphrase is known;
# the local stack also trusts the emulator's certificate.
_pulumi stack +args:
    #!/usr/bin/env bash
    set -euo pipefail
    if [ -f ".env.{{stack}}" ]; then
      while IFS= read -r line || [ -n "$line" ]; do
        [[ "$line" =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*=[[:space:]]*(.*)$ ]] || continue
        name="${BASH_REMATCH[2]}" value="${BASH_REMATCH[3]}"
        # As the program refuses it: an allowed deletion kept in a file stays allowed.
        if [ "$name" = DOME_ALLOW_DELETE ]; then echo "error: .env.{{stack}} sets DOME_ALLOW_DELETE, which would allow those deletions in every later deploy of the stack; remove the line, and name the resources on the one command that deletes them: DOME_ALLOW_DELETE=\"<names>\" just pulumi-up {{stack}}" >&2; exit 1; fi
        if [[ "$value" =~ ^\"(.*)\"$ || "$value" =~ ^\'(.*)\'$ ]]; then value="${BASH_REMATCH[1]}"
        else
          # As the program's reader: " #" starts a comment after an unquoted value.
          value="${value%%[[:space:]]#*}" value="${value%"${value##*[![:space:]]}"}"
        fi
        # The shell wins, so CI's environment overrides a developer's file;
        # but the local stack talks only to the emulator, whose credentials
        # are .env.local's, and a real token must never be sent there.
        if [ "{{stack}}" = local ] || [ -z "${!name:-}" ]; then export "$name=$value"; fi
      done < ".env.{{stack}}"
    fi
    if [ "{{stack}}" = local ]; then
      # The local stack talks to the emulator, whose certificate only it trusts.
      export SSL_CERT_FILE="{{justfile_directory()}}/.emulator/cfemu-cert.pem"
    fi
    if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
      echo "error: PULUMI_CONFIG_PASSPHRASE is not set: the {{stack}} stack's secrets are encrypted with a passphrase; export it or put it in .env.{{stack}}" >&2
      exit 1
    fi
    # The official provider reads CLOUDFLARE_RPS as a steady rate (4 a second unless set), which would make
    # every deploy wait on it; its calls are few (a handful per database, bucket, queue, namespace, route,
    # domain and cron trigger), so within Cloudflare's budget it may go at up to 50 a second. The companion
    # keeps to CLOUDFLARE_API_BUDGET, Cloudflare's 1,200 per 5 minutes. A CLOUDFLARE_RPS set by hand (a
    # share for parallel deploys) is left as it is, and both providers read it.
    if [ -z "${CLOUDFLARE_RPS:-}" ]; then export CLOUDFLARE_RPS=50 CLOUDFLARE_API_BUDGET="${CLOUDFLARE_API_BUDGET:-1200/5m}"; fi
    # A file backend's folder is made on first use (bare commands get the same
    # from Pulumi.yaml's create_dir), so a fresh clone's first command finds it.
    if [[ "$PULUMI_BACKEND_URL" == file://* ]]; then state="${PULUMI_BACKEND_URL#file://}"; mkdir -p "${state%%\?*}"; fi
    echo "+ pulumi {{args}}" >&2
    exec {{pulumi}} {{args}}

_known stack:
    @[ -f "Pulumi.{{stack}}.yaml" ] || { echo "error: unknown stack '{{stack}}': Pulumi.{{stack}}.yaml is missing (stacks: {{stacks}}, local)" >&2; exit 1; }

_require-pulumi:
    @command -v {{pulumi}} >/dev/null || { echo "error: the pulumi CLI is not installed: install it (docs/getting-started.md) or run 'just tools' to build it here" >&2; exit 1; }

_guard-prod stack:
    @if [ "{{stack}}" = prod ]; then \
      if [ -n "$(git status --porcelain)" ]; then echo "error: refusing to deploy prod from a dirty git tree: commit or stash your changes first" >&2; exit 1; fi; \
      if [ ! -t 0 ] && [ "${DOME_CONFIRM_PROD:-}" != prod ]; then echo "error: no terminal to confirm on: set DOME_CONFIRM_PROD=prod to deploy prod from CI" >&2; exit 1; fi; \
    fi

_refuse-prod stack action:
    @if [ "{{stack}}" = prod ]; then echo "error: refusing to {{action}} prod: production resources are protected; unprotect one explicitly with 'pulumi state unprotect' if you really mean it" >&2; exit 1; fi
