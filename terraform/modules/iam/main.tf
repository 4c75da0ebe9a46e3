# IRSA role of the Dagster service account: every Dagster pod (webserver, daemon, code server,
# run and step pods) runs as `<namespace>/<service_account>` and gets exactly what the pipeline
# uses: the store bucket, the upload queue, the optional notification topic. Every statement
# names its resources; none uses a wildcard resource.

# Who may assume each IRSA role of this module: exactly one Kubernetes service account each.
locals {
  irsa_service_accounts = {
    dagster             = "${var.namespace}:${var.service_account}"
    cloudwatch_exporter = "${var.cloudwatch_exporter_namespace}:${var.cloudwatch_exporter_service_account}"
    studio              = "${var.studio_namespace}:${var.studio_service_account}"
    serve               = "${var.serve_namespace}:${var.serve_service_account}"
    alb_controller      = "${var.alb_controller_namespace}:${var.alb_controller_service_account}"
  }
}

data "aws_iam_policy_document" "assume" {
  for_each = local.irsa_service_accounts
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.oidc_issuer}:sub"
      values   = ["system:serviceaccount:${each.value}"]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.oidc_issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "dagster" {
  name                 = var.role_name
  description          = "IRSA role of ${var.namespace}/${var.service_account} (SHAZAM Dagster pods)"
  assume_role_policy   = data.aws_iam_policy_document.assume["dagster"].json
  max_session_duration = 3600
  tags                 = var.tags
}

data "aws_iam_policy_document" "dagster" {
  statement {
    sid       = "ListStore"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [var.bucket_arn]
  }

  # Uploads, versions, renders, pages, the search index, step logs; deletes: staging and
  # retention. Objects under the given prefixes only.
  statement {
    sid       = "ReadWriteStoreObjects"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = [for prefix in var.object_prefixes : "${var.bucket_arn}/${prefix}*"]
  }

  statement {
    sid       = "ConsumeUploadEvents"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    resources = [var.queue_arn]
  }

  # SSE-KMS objects and encrypted queue messages.
  statement {
    sid       = "UseStoreKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }

  dynamic "statement" {
    for_each = var.sns_topic_arn == null ? [] : [var.sns_topic_arn]
    content {
      sid       = "NotifyArtists"
      actions   = ["sns:Publish"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "dagster" {
  name   = "shazam-pipeline"
  role   = aws_iam_role.dagster.id
  policy = data.aws_iam_policy_document.dagster.json
}
