locals {
  # shared/model/topics.ts TOPICS, without the prefix (test/deploy checks the two agree).
  topics = [
    "asset-changes",
    "change-log",
    "scc-findings",
    "sweeps",
    "findings",
    "approval-requests",
    "actions",
    "rollbacks",
    "outcomes",
  ]

  # Topics a function consumes: each gets a push subscription per consumer and one dead-letter topic.
  # scc-findings has no consumer deployed yet (see README).
  subscribed_topics = toset([for f in local.functions : f.topic])

  # Redelivery: exponential backoff between these bounds, then the dead-letter topic after 5 attempts.
  max_delivery_attempts = 5
}

resource "google_pubsub_topic" "bus" {
  for_each = toset(local.topics)

  project = var.project_id
  name    = "${var.prefix}${each.key}"
  labels  = local.labels

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_topic" "dead_letter" {
  for_each = local.subscribed_topics

  project = var.project_id
  name    = "${var.prefix}${each.key}-dead-letter"
  labels  = local.labels

  depends_on = [google_project_service.enabled]
}

# A topic without a subscription drops what it receives: this keeps dead letters for 14 days, to inspect
# and to replay (`gcloud pubsub subscriptions pull`, then republish to the source topic).
resource "google_pubsub_subscription" "dead_letter" {
  for_each = local.subscribed_topics

  project                    = var.project_id
  name                       = "${var.prefix}${each.key}-dead-letter"
  topic                      = google_pubsub_topic.dead_letter[each.key].id
  ack_deadline_seconds       = 60
  message_retention_duration = "1209600s"
  labels                     = local.labels

  expiration_policy {
    ttl = ""
  }
}

# One push subscription per function, delivering to its URL as the push invoker.
resource "google_pubsub_subscription" "push" {
  for_each = local.functions

  project = var.project_id
  name    = "${var.prefix}${each.key}-push"
  topic   = google_pubsub_topic.bus[each.value.topic].id
  labels  = local.labels

  # For push, the ack deadline is how long Pub/Sub waits for the HTTP response: longer than the function's
  # timeout, so that a slow success is never redelivered while it still runs.
  ack_deadline_seconds       = min(600, each.value.timeout_seconds + 30)
  message_retention_duration = "604800s"

  expiration_policy {
    ttl = ""
  }

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter[each.value.topic].id
    max_delivery_attempts = local.max_delivery_attempts
  }

  push_config {
    # The topic in the path is how functions-framework fills the CloudEvent's source (the decoder in
    # shared/contracts/pubsub-cloudevent.ts reads it); the function serves every path.
    push_endpoint = "${google_cloudfunctions2_function.fn[each.key].service_config[0].uri}/projects/${var.project_id}/topics/${google_pubsub_topic.bus[each.value.topic].name}"

    oidc_token {
      service_account_email = google_service_account.push_invoker.email
      # Cloud Run accepts its own URL as the audience; the default (the full push URL) would not match.
      audience = google_cloudfunctions2_function.fn[each.key].service_config[0].uri
    }
  }

  depends_on = [
    google_cloud_run_service_iam_member.invoker,
    google_service_account_iam_member.pubsub_mints_invoker_tokens,
    google_pubsub_topic_iam_member.dead_letter_publisher,
  ]
}

# --- What the Pub/Sub service agent needs -------------------------------------------------------------

# Forward undeliverable messages to the dead-letter topics.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  for_each = local.subscribed_topics

  project = var.project_id
  topic   = google_pubsub_topic.dead_letter[each.key].name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_service_agent
}

# Acknowledge the forwarded messages on the source subscriptions.
resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  for_each = local.functions

  project      = var.project_id
  subscription = google_pubsub_subscription.push[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}

# Mint the OIDC tokens of the push invoker (required for projects created before 2021-04-08, harmless after).
resource "google_service_account_iam_member" "pubsub_mints_invoker_tokens" {
  service_account_id = google_service_account.push_invoker.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent
}
