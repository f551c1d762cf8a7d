# Cloud Asset Inventory feeds: every change of a watched asset type anywhere in the organization, as a
# TemporalAsset JSON message on the asset-changes topic (detect consumes it). One feed per content type:
# detect merges the RESOURCE and IAM_POLICY parts into one stored asset.
locals {
  feed_content_types = {
    "resources"    = "RESOURCE"
    "iam-policies" = "IAM_POLICY"
  }
}

resource "google_cloud_asset_organization_feed" "changes" {
  for_each = local.feed_content_types

  billing_project = var.project_id
  org_id          = var.org_id
  feed_id         = "${var.prefix}${each.key}"
  content_type    = each.value
  asset_types     = var.watched_asset_types

  feed_output_config {
    pubsub_destination {
      topic = google_pubsub_topic.bus["asset-changes"].id
    }
  }

  # The feed's first message (the welcome message) needs the publisher grant in place.
  depends_on = [google_pubsub_topic_iam_member.asset_feed_publisher]
}

# The Cloud Asset service agent of the billing project publishes the feed messages.
resource "google_pubsub_topic_iam_member" "asset_feed_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.bus["asset-changes"].name
  role    = "roles/pubsub.publisher"
  member  = local.asset_service_agent

  depends_on = [google_project_service.enabled]
}

# Who changed what. CAI feed messages do not name the author of a change; Admin Activity audit logs do
# (protoPayload.authenticationInfo.principalEmail), so the person whose change a fix answers is named as
# its requester and can never approve it. Warden's own writes are left out: the engine is never an author.
resource "google_logging_organization_sink" "change_log" {
  name             = "${var.prefix}change-log"
  org_id           = var.org_id
  include_children = true
  destination      = "pubsub.googleapis.com/${google_pubsub_topic.bus["change-log"].id}"
  filter = join(" AND ", [
    "logName:\"cloudaudit.googleapis.com%2Factivity\"",
    "protoPayload.@type=\"type.googleapis.com/google.cloud.audit.AuditLog\"",
    "severity<ERROR",
    "protoPayload.authenticationInfo.principalEmail!=\"${google_service_account.function["execute"].email}\"",
  ])
}

# The sink's own writer identity publishes the entries.
resource "google_pubsub_topic_iam_member" "change_log_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.bus["change-log"].name
  role    = "roles/pubsub.publisher"
  member  = google_logging_organization_sink.change_log.writer_identity
}
