# IRSA role of the studio (deploy/k8s/studio/serviceaccount.yaml): exactly what `shazam studio`
# does in the store, under the store's prefix (var.studio_store_prefix). It reads everything (and
# presigns downloads of scans/), presigns the browser's multipart uploads under uploads/ and
# completes them itself, and writes its small records (decisions, the audit log, production
# tracking). It deletes nothing: no s3:DeleteObject on any key. Every statement names its
# resources.

locals {
  studio_objects = "${var.bucket_arn}/${var.studio_store_prefix}"
  # layout.py's UPLOAD (uploads/<ASIN>/<name>.zip), written by browsers through presigned parts.
  studio_upload_prefixes = ["uploads/"]
  # layout.py's DECISION, AUDIT_EVENT and the production kinds: one small JSON each.
  studio_record_prefixes = ["decisions/", "audit/", "production/"]
}

resource "aws_iam_role" "studio" {
  name                 = var.studio_role_name
  description          = "IRSA role of ${var.studio_namespace}/${var.studio_service_account} (SHAZAM studio: read the store, presign uploads, write records)"
  assume_role_policy   = data.aws_iam_policy_document.assume["studio"].json
  max_session_duration = 3600
  tags                 = var.tags
}

data "aws_iam_policy_document" "studio" {
  statement {
    sid       = "ListStore"
    actions   = ["s3:ListBucket"]
    resources = [var.bucket_arn]
  }

  # Status pages, review, scan downloads (presigned GET under scans/): any key of the store.
  statement {
    sid       = "ReadStore"
    actions   = ["s3:GetObject"]
    resources = ["${local.studio_objects}*"]
  }

  # Presigned multipart uploads: create, each part and complete are s3:PutObject; the studio
  # lists the parts to resume and to complete, and aborts what the artist cancels.
  statement {
    sid = "BrowserUploads"
    actions = [
      "s3:PutObject",
      "s3:AbortMultipartUpload",
      "s3:ListMultipartUploadParts",
    ]
    resources = [for prefix in local.studio_upload_prefixes : "${local.studio_objects}${prefix}*"]
  }

  statement {
    sid       = "WriteRecords"
    actions   = ["s3:PutObject"]
    resources = [for prefix in local.studio_record_prefixes : "${local.studio_objects}${prefix}*"]
  }

  # SSE-KMS objects: reading decrypts, writing (and each part of a multipart upload) needs a
  # data key and decrypts it.
  statement {
    sid       = "UseStoreKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "studio" {
  name   = "shazam-studio"
  role   = aws_iam_role.studio.id
  policy = data.aws_iam_policy_document.studio.json
}
