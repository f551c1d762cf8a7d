locals {
  services = concat(
    [
      "artifactregistry.googleapis.com", # function images
      "cloudasset.googleapis.com",       # feeds and the sweep's listAssets
      "cloudbuild.googleapis.com",       # function builds
      "cloudfunctions.googleapis.com",
      "cloudresourcemanager.googleapis.com",
      "cloudscheduler.googleapis.com",
      "firestore.googleapis.com",
      "iam.googleapis.com",
      "pubsub.googleapis.com",
      "run.googleapis.com", # 2nd gen functions are Cloud Run services
      "storage.googleapis.com",
    ],
    var.slack_bot_token_secret_id == null && var.slack_signing_secret_secret_id == null ? [] : ["secretmanager.googleapis.com"],
  )
}

resource "google_project_service" "enabled" {
  for_each = toset(local.services)

  project            = var.project_id
  service            = each.key
  disable_on_destroy = false
}
