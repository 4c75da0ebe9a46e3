# State of prod, for `terraform init -reconfigure -backend-config=env/prod.backend.hcl`.
# bucket and dynamodb_table are placeholders: replace them with ../bootstrap's outputs
# state_bucket and lock_table (or override them: -backend-config="bucket=<state_bucket>").
# The key is the one envs/prod used before the two roots became one, so the state carries over.
bucket         = "shazam-terraform-state-123456789012"
key            = "envs/prod/terraform.tfstate"
region         = "eu-west-1"
dynamodb_table = "shazam-terraform-locks"
encrypt        = true
