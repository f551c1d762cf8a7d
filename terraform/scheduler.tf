# The periodic sweep. Cloud Scheduler publishes the same bytes every time and cannot template a fresh
# id into them, while handle-sweep ignores a sweepId it has already finished. So the message carries no
# sweepId: the sweep's identity must be the Pub/Sub messageId, which is new for every publish and the same
# on every redelivery of that publish, exactly the once-per-tick idempotence the sweep needs.
# This requires SweepEventSchema to accept a missing sweepId and handle-sweep to fall back to the message
# id (see README "The sweep id"); until then the scheduled message is rejected as a dead letter, loudly,
# rather than running once and then being silently ignored forever.
locals {
  sweep_event = {
    kind     = "sweep"
    scope    = "organizations/${var.org_id}"
    category = "all"
  }
}

resource "google_cloud_scheduler_job" "sweep" {
  project     = var.project_id
  region      = var.region
  name        = "${var.prefix}sweep"
  description = "Full Warden sweep of organizations/${var.org_id}"
  schedule    = var.sweep_schedule
  time_zone   = var.sweep_time_zone

  pubsub_target {
    topic_name = google_pubsub_topic.bus["sweeps"].id
    data       = base64encode(jsonencode(local.sweep_event))
    attributes = {
      source = "cloud-scheduler"
    }
  }

  depends_on = [google_project_service.enabled]
}

# The approval tick and the daily digest, on the approval-requests topic request-approval consumes. Both
# messages are fixed bytes, and both are idempotent: the tick reconciles whatever it finds, and the digest
# is sent once per UTC day however often it is triggered.
locals {
  approval_tick_event = { kind = "tick" }
  digest_event        = { kind = "digest" }
}

resource "google_cloud_scheduler_job" "approval_tick" {
  project     = var.project_id
  region      = var.region
  name        = "${var.prefix}approval-tick"
  description = "Expire unanswered approval requests (fail closed), bring Slack messages up to date, report automatic actions"
  schedule    = var.approval_tick_schedule
  time_zone   = var.sweep_time_zone

  pubsub_target {
    topic_name = google_pubsub_topic.bus["approval-requests"].id
    data       = base64encode(jsonencode(local.approval_tick_event))
    attributes = {
      source = "cloud-scheduler"
    }
  }

  depends_on = [google_project_service.enabled]
}

resource "google_cloud_scheduler_job" "digest" {
  project     = var.project_id
  region      = var.region
  name        = "${var.prefix}digest"
  description = "The daily Slack digest: findings opened and closed, actions by outcome, savings, pending approvals"
  schedule    = var.digest_schedule
  time_zone   = var.sweep_time_zone

  pubsub_target {
    topic_name = google_pubsub_topic.bus["approval-requests"].id
    data       = base64encode(jsonencode(local.digest_event))
    attributes = {
      source = "cloud-scheduler"
    }
  }

  depends_on = [google_project_service.enabled]
}
