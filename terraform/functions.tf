# One 2nd-gen Cloud Function per registered entry point (functions/*/index.ts), all built from the same zip.
#
# Deploy model: the functions are HTTP-triggered (no Eventarc trigger). Each consumed topic has a Pub/Sub
# push subscription (pubsub.tf) that POSTs the raw push body to the function's URL with an OIDC token of
# the push-invoker service account; functions-framework converts that body into a
# google.cloud.pubsub.topic.v1.messagePublished CloudEvent for the function registered with
# functions.cloudEvent(NAME, …) (a declaratively registered signature wins over the HTTP signature type the
# platform sets). A handler that throws answers 500 and Pub/Sub redelivers with backoff, up to the
# dead-letter topic. Push subscriptions, rather than Eventarc triggers, give us the retry policy, the
# dead-letter policy and max delivery attempts on a subscription we own.
locals {
  # test/deploy checks: the keys and entry points are the names functions/*/index.ts register, topic is the
  # one its cloudEventFunction() consumes, publishes lists every topic its code publishes to.
  functions = {
    "detect" = {
      entry_point     = "detect"
      description     = "Cloud Asset Inventory feed message -> stored asset state -> policy verdicts -> findings"
      topic           = "asset-changes"
      publishes       = ["findings"]
      timeout_seconds = 120
      memory          = "512Mi"
      max_instances   = 10
      secrets         = {}
    }
    "detect-sweep" = {
      entry_point = "detect-sweep"
      description = "Scheduled full scan through Cloud Asset Inventory; resumes stuck actions"
      topic       = "sweeps"
      publishes   = ["findings", "actions", "outcomes"]
      # Pub/Sub waits at most 600 s for a push response; the sweep must finish inside that (see README).
      timeout_seconds = 540
      memory          = "1Gi"
      # One sweep at a time: a redelivery queues behind the running sweep instead of running beside it.
      max_instances = 1
      secrets       = {}
    }
    "detect-authors" = {
      entry_point     = "detect-authors"
      description     = "Cloud Audit Logs entry -> who changed which resource (named as requester; never an approver)"
      topic           = "change-log"
      publishes       = []
      timeout_seconds = 60
      memory          = "256Mi"
      max_instances   = 10
      secrets         = {}
    }
    "assess-risk" = {
      entry_point     = "assess-risk"
      description     = "Finding -> risk decision -> action (auto, approval, recommend, suppress)"
      topic           = "findings"
      publishes       = ["actions", "approval-requests"]
      timeout_seconds = 120
      memory          = "512Mi"
      max_instances   = 5
      secrets         = {}
    }
    "execute" = {
      entry_point     = "execute"
      description     = "Action -> before-state, API call, wait, verify, rollback"
      topic           = "actions"
      publishes       = ["outcomes", "approval-requests", "findings"]
      timeout_seconds = 300
      memory          = "512Mi"
      max_instances   = 3
      secrets         = {}
    }
    "rollback" = {
      entry_point     = "rollback"
      description     = "On-demand rollback the API hands on -> undo under the action's lease, audited"
      topic           = "rollbacks"
      publishes       = ["outcomes", "findings"]
      timeout_seconds = 300
      memory          = "512Mi"
      max_instances   = 3
      secrets         = {}
    }
    "report" = {
      entry_point     = "report"
      description     = "Outcome -> recorded once, metrics log line"
      topic           = "outcomes"
      publishes       = ["outcomes"]
      timeout_seconds = 60
      memory          = "256Mi"
      max_instances   = 2
      secrets         = { SLACK_BOT_TOKEN = var.slack_bot_token_secret_id }
    }
    # Asks for approval in Slack, decides the votes the Slack endpoint hands on, runs the scheduled approval
    # tick (expiry, reconciliation, the batched report of automatic actions) and the daily digest.
    "request-approval" = {
      entry_point     = "request-approval"
      description     = "Action awaiting approval -> request with quorum and expiry -> Slack message; Slack votes; approval tick; daily digest"
      topic           = "approval-requests"
      publishes       = ["actions", "outcomes"]
      timeout_seconds = 120
      memory          = "512Mi"
      max_instances   = 3
      secrets         = { SLACK_BOT_TOKEN = var.slack_bot_token_secret_id }
    }
  }

  # HTTP functions (functions.http in functions/api/index.ts): called by people and Slack, not by Pub/Sub.
  http_functions = {
    # The automation API. Cloud Run lets in only var.api_invokers (IAM); the code checks the Google-signed ID
    # token again with its audience, and scopes every answer to the caller's teams (policies/approvals.yaml).
    "api" = {
      entry_point     = "api"
      description     = "Automation API: sweeps on demand, actions, status, approvals, rollback"
      publishes       = ["actions", "outcomes", "sweeps", "findings", "rollbacks"]
      timeout_seconds = 60
      memory          = "512Mi"
      max_instances   = 5
      ingress         = var.api_ingress
      secrets         = { SLACK_BOT_TOKEN = var.slack_bot_token_secret_id }
      env             = {
        WARDEN_API_AUDIENCE = join(",", concat(["https://${var.region}-${var.project_id}.cloudfunctions.net/${var.prefix}api"], var.api_audiences))
      }
    }
    # Slack's interactivity Request URL. Slack cannot present a Google identity, so this one is public; every
    # request must carry Slack's signature (signing secret, 5-minute window, replays refused) or gets 401, and
    # a verified vote is only handed on to request-approval.
    "slack" = {
      entry_point     = "slack"
      description     = "Slack interactivity endpoint: signature-verified Approve / Reject clicks and reason dialogs"
      publishes       = ["approval-requests"]
      timeout_seconds = 10
      memory          = "256Mi"
      max_instances   = 10
      ingress         = "ALLOW_ALL"
      secrets         = {
        SLACK_BOT_TOKEN      = var.slack_bot_token_secret_id
        SLACK_SIGNING_SECRET = var.slack_signing_secret_secret_id
      }
      env             = {}
    }
  }

  # Every function, for what they all get alike: a runtime identity, Firestore, topic and secret grants.
  all_functions = merge(local.functions, local.http_functions)

  # The environment shared/roots/from-environment.ts reads. GOOGLE_CLOUD_PROJECT is not set by the Node.js
  # 20 runtime, so it is set here.
  function_env = merge(
    {
      GOOGLE_CLOUD_PROJECT = var.project_id
      WARDEN_PREFIX        = var.prefix
      WARDEN_DRY_RUN       = tostring(var.dry_run)
      LOG_LEVEL            = var.log_level
    },
    var.policies_dir == null ? {} : { WARDEN_POLICIES_DIR = var.policies_dir },
  )
}

# One runtime identity per function; iam.tf grants each only what its code calls.
resource "google_service_account" "function" {
  for_each = local.all_functions

  project      = var.project_id
  account_id   = "${var.prefix}fn-${each.key}"
  display_name = "Warden ${each.key}"
  description  = "Runtime identity of the ${var.prefix}${each.key} function: ${each.value.description}"
}

# The only identity allowed to invoke the functions: Pub/Sub signs each push request as this account.
resource "google_service_account" "push_invoker" {
  project      = var.project_id
  account_id   = "${var.prefix}push-invoker"
  display_name = "Warden Pub/Sub push invoker"
  description  = "OIDC identity of the Warden push subscriptions; holds run.invoker on the Warden functions only"
}

# Builds the function images (Cloud Build, buildpacks). Never runs Warden code.
resource "google_service_account" "build" {
  project      = var.project_id
  account_id   = "${var.prefix}build"
  display_name = "Warden function builds"
}

resource "google_cloudfunctions2_function" "fn" {
  for_each = local.functions

  project     = var.project_id
  name        = "${var.prefix}${each.key}"
  location    = var.region
  description = each.value.description
  labels      = local.labels

  build_config {
    runtime         = "nodejs20"
    entry_point     = each.value.entry_point
    service_account = google_service_account.build.id

    source {
      storage_source {
        bucket = var.source_bucket
        object = var.source_object
      }
    }
  }

  service_config {
    available_memory                 = each.value.memory
    timeout_seconds                  = each.value.timeout_seconds
    min_instance_count               = 0
    max_instance_count               = each.value.max_instances
    max_instance_request_concurrency = 1
    # Pub/Sub push from the same project counts as internal traffic; nothing else needs to reach these.
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    service_account_email          = google_service_account.function[each.key].email
    environment_variables          = local.function_env

    dynamic "secret_environment_variables" {
      for_each = { for k, v in each.value.secrets : k => v if v != null }
      content {
        key        = secret_environment_variables.key
        project_id = var.project_id
        secret     = secret_environment_variables.value
        version    = "latest"
      }
    }
  }

  depends_on = [
    google_project_service.enabled,
    google_project_iam_member.build,
    google_secret_manager_secret_iam_member.function_secrets,
  ]
}

# run.invoker on each function's Cloud Run service, for the push invoker only (no allUsers, no project-wide
# grant). A 2nd-gen function's service has the function's name.
resource "google_cloud_run_service_iam_member" "invoker" {
  for_each = local.functions

  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.fn[each.key].name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.push_invoker.email}"
}

resource "google_cloudfunctions2_function" "http" {
  for_each = local.http_functions

  project     = var.project_id
  name        = "${var.prefix}${each.key}"
  location    = var.region
  description = each.value.description
  labels      = local.labels

  build_config {
    runtime         = "nodejs20"
    entry_point     = each.value.entry_point
    service_account = google_service_account.build.id

    source {
      storage_source {
        bucket = var.source_bucket
        object = var.source_object
      }
    }
  }

  service_config {
    available_memory                 = each.value.memory
    timeout_seconds                  = each.value.timeout_seconds
    min_instance_count               = 0
    max_instance_count               = each.value.max_instances
    max_instance_request_concurrency = 1
    ingress_settings                 = each.value.ingress
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.function[each.key].email
    environment_variables            = merge(local.function_env, each.value.env)

    dynamic "secret_environment_variables" {
      for_each = { for k, v in each.value.secrets : k => v if v != null }
      content {
        key        = secret_environment_variables.key
        project_id = var.project_id
        secret     = secret_environment_variables.value
        version    = "latest"
      }
    }
  }

  depends_on = [
    google_project_service.enabled,
    google_project_iam_member.build,
    google_secret_manager_secret_iam_member.function_secrets,
  ]
}

# Who may call the automation API (Cloud Run IAM, before any code runs): the members of var.api_invokers.
resource "google_cloud_run_service_iam_member" "api_invokers" {
  for_each = toset(var.api_invokers)

  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.http["api"].name
  role     = "roles/run.invoker"
  member   = each.key
}

# Slack calls the interactivity endpoint without a Google identity: public at the IAM level, and every
# request is refused (401) unless Slack's signature over it verifies.
resource "google_cloud_run_service_iam_member" "slack_public" {
  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.http["slack"].name
  role     = "roles/run.invoker"
  member   = "allUsers"
}
