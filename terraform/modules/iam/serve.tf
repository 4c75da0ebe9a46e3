# IRSA role of the search service (deploy/k8s/shop/serviceaccount.yaml, `shazam serve --api-only`):
# read-only, and only what it reads. It polls the search index pointer and loads the index
# (search/), and serves the published catalogue's data (published/catalog.json, under
# published/). It writes and deletes nothing. Listing is limited to those two folders: S3 answers
# 404 rather than 403 for a missing key (an empty store has no index pointer yet) only to a
# caller allowed s3:ListBucket, and the condition keeps the rest of the store's key names
# (uploads, artists' work) out of reach of a public-facing pod. If the pods of an empty store
# stay unready with AccessDenied in their log, S3 did not apply the conditioned grant to that
# check: drop the condition (docs/deploy.md, "The search service").

locals {
  serve_objects = "${var.bucket_arn}/${var.serve_store_prefix}"
  # layout.py's search index (search/...) and the pages' tree (published/...).
  serve_read_prefixes = ["search/", "published/"]
}

resource "aws_iam_role" "serve" {
  name                 = var.serve_role_name
  description          = "IRSA role of ${var.serve_namespace}/${var.serve_service_account} (SHAZAM search service: read the index and the catalogue)"
  assume_role_policy   = data.aws_iam_policy_document.assume["serve"].json
  max_session_duration = 3600
  tags                 = var.tags
}

data "aws_iam_policy_document" "serve" {
  statement {
    sid       = "ListIndexAndPages"
    actions   = ["s3:ListBucket"]
    resources = [var.bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [for prefix in local.serve_read_prefixes : "${var.serve_store_prefix}${prefix}*"]
    }
  }

  statement {
    sid       = "ReadIndexAndPages"
    actions   = ["s3:GetObject"]
    resources = [for prefix in local.serve_read_prefixes : "${local.serve_objects}${prefix}*"]
  }

  # SSE-KMS objects: reading decrypts.
  statement {
    sid       = "DecryptStore"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "serve" {
  name   = "shazam-serve"
  role   = aws_iam_role.serve.id
  policy = data.aws_iam_policy_document.serve.json
}
