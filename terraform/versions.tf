terraform {
  required_version = ">= 1.5"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.0"
    }
  }

  # State lives in a GCS bucket named at init time (cloudbuild.yaml passes _TF_STATE_BUCKET):
  #   terraform init -backend-config=bucket=BUCKET -backend-config=prefix=warden
  backend "gcs" {}
}

provider "google" {
  project = var.project_id
  region  = var.region
}

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  labels = {
    app = "warden"
  }

  # Google-managed service agents of the Warden project (they exist once their API is enabled; Cloud Asset's
  # is created lazily, which is why cloudbuild.yaml runs `gcloud beta services identity create` first).
  pubsub_service_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
  asset_service_agent  = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-cloudasset.iam.gserviceaccount.com"
}
