output "function_uris" {
  description = "Cloud Run URL of each function (internal ingress: reachable from Pub/Sub push, not the internet)."
  value       = { for k, f in google_cloudfunctions2_function.fn : k => f.service_config[0].uri }
}

output "function_service_accounts" {
  description = "Runtime service account of each function."
  value       = { for k, sa in google_service_account.function : k => sa.email }
}

output "api_url" {
  description = "The automation API (callers need roles/run.invoker, var.api_invokers, and an ID token for this audience)."
  value       = google_cloudfunctions2_function.http["api"].service_config[0].uri
}

output "slack_request_url" {
  description = "Slack app > Interactivity & Shortcuts > Request URL."
  value       = "${google_cloudfunctions2_function.http["slack"].service_config[0].uri}/slack/interactions"
}

output "push_invoker_service_account" {
  description = "The identity Pub/Sub pushes as; the only holder of run.invoker on the functions."
  value       = google_service_account.push_invoker.email
}

output "topics" {
  description = "Topic ids by unprefixed name."
  value       = { for k, t in google_pubsub_topic.bus : k => t.id }
}

output "dead_letter_subscriptions" {
  description = "Where undeliverable messages wait, by source topic."
  value       = { for k, s in google_pubsub_subscription.dead_letter : k => s.id }
}

output "execute_custom_role" {
  description = "The organization custom role of the execute function."
  value       = google_organization_iam_custom_role.execute.name
}

output "firestore_database" {
  description = "The Firestore database the functions use."
  value       = google_firestore_database.default.id
}

output "asset_feeds" {
  description = "The Cloud Asset Inventory feeds."
  value       = { for k, f in google_cloud_asset_organization_feed.changes : k => f.name }
}
