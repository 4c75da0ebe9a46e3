"""terraform/: formatted, every root and module validates, checkov finds nothing unexplained in
either environment, the environments differ only in their tfvars and backend settings, and the
names the cluster is built with match the ones the Dagster code and Helm values use.

Terraform runs on a copy of terraform/ in a temporary directory, with the AWS provider from the
local filesystem mirror (no registry access) and its data directory there too, so nothing
(`.terraform/`, lock files) is written into the checkout. checkov pins boto3 far below this
project's, so it runs from its own virtual environment under the user cache, built on first use
(about a minute), or from `SHAZAM_CHECKOV` (path of a checkov executable) when set.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from dagster_project.lib import k8s
from shazam_assets.platform import layout, web
from shazam_assets.publish import markup, serving
from shazam_assets.publish.server import pages_policy, store_key

REPO = Path(__file__).resolve().parents[1]
TERRAFORM = REPO / "terraform"
CHECKOV_CONFIG = TERRAFORM / ".checkov.yaml"
HELM_VALUES = REPO / "deploy" / "helm" / "values.yaml"
STUDIO_K8S = REPO / "deploy" / "k8s" / "studio"
SHOP_K8S = REPO / "deploy" / "k8s" / "shop"
MIRROR = Path(os.environ.get("SHAZAM_TF_MIRROR", "/opt/tf-plugins"))
MIRROR_PROVIDER = MIRROR / "registry.terraform.io" / "hashicorp" / "aws"
CHECKOV_VERSION = "3.3.30"  # the skip list is checked against this version's rule set
# Offline (--skip-download: no guideline look-ups at Prisma Cloud), terraform only, JSON out.
CHECKOV_FLAGS = (
    "--framework",
    "terraform",
    "--quiet",
    "--compact",
    "-o",
    "json",
    "--skip-download",
)

# "." is terraform/ itself: the one root every environment applies, with env/<env>.tfvars and
# env/<env>.backend.hcl.
ROOTS = ("bootstrap", ".")
MODULES = tuple(
    f"modules/{name}"
    for name in ("network", "eks", "storage", "database", "iam", "ecr", "studio", "cdn")
)
CONFIGS = ROOTS + MODULES
ENVS = ("dev", "prod")
ENV_DIR = TERRAFORM / "env"


@dataclass(frozen=True)
class Outcome:
    """One finished terraform command: its exit status and its combined output."""

    returncode: int
    output: str


def _run(args: list[str], *, cwd: Path, env: Mapping[str, str], timeout: float) -> Outcome:
    proc = subprocess.run(
        args, cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=timeout, check=False
    )
    return Outcome(proc.returncode, proc.stdout + proc.stderr)


@pytest.fixture(scope="session")
def terraform_bin() -> str:
    """Path of the terraform binary; the Terraform tests skip without one."""
    found = shutil.which("terraform")
    if found is None:
        pytest.skip("terraform binary not on PATH: install Terraform >= 1.6 to run these checks")
    return found


@pytest.fixture(scope="session")
def terraform_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for terraform: the AWS provider only from the filesystem mirror, no
    version check-ins, no prompts."""
    if not MIRROR_PROVIDER.is_dir():
        pytest.skip(f"no hashicorp/aws provider in the filesystem mirror {MIRROR}")
    home = tmp_path_factory.mktemp("terraform-cli")
    config = home / "cli.tfrc"
    config.write_text(
        f'provider_installation {{\n  filesystem_mirror {{\n    path = "{MIRROR}"\n  }}\n}}\n'
    )
    env = dict(os.environ)
    env.update(TF_CLI_CONFIG_FILE=str(config), TF_IN_AUTOMATION="1", TF_INPUT="0")
    env.update(CHECKPOINT_DISABLE="1")
    return env


def _init_and_validate(terraform: str, tree: Path, config: str, env: dict[str, str]) -> Outcome:
    """`terraform init -backend=false` then `terraform validate -json` in one configuration,
    with its own data directory."""
    data = "root" if config == "." else config.replace("/", "_")
    env = {**env, "TF_DATA_DIR": str(tree.parent / "data" / data)}
    init = _run(
        [terraform, "init", "-backend=false", "-input=false", "-no-color"],
        cwd=tree / config,
        env=env,
        timeout=120,
    )
    if init.returncode != 0:
        return Outcome(init.returncode, f"terraform init failed:\n{init.output}")
    return _run(
        [terraform, "validate", "-json", "-no-color"], cwd=tree / config, env=env, timeout=120
    )


@pytest.fixture(scope="session")
def validations(
    terraform_bin: str, terraform_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Outcome]:
    """Every configuration initialised and validated once, a few at a time (each validate
    loads the large AWS provider), on a copy of terraform/."""
    tree = tmp_path_factory.mktemp("terraform") / "terraform"
    shutil.copytree(TERRAFORM, tree, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    workers = max(1, min(3, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {
            config: pool.submit(_init_and_validate, terraform_bin, tree, config, terraform_env)
            for config in CONFIGS
        }
        return {config: future.result() for config, future in futures.items()}


def test_terraform_is_formatted(terraform_bin: str) -> None:
    result = subprocess.run(
        [terraform_bin, "fmt", "-check", "-recursive", "-diff", "-no-color", str(TERRAFORM)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "CHECKPOINT_DISABLE": "1"},
    )
    assert result.returncode == 0, f"run `terraform fmt -recursive terraform/`:\n{result.stdout}"


def test_every_configuration_is_validated() -> None:
    """A new module or environment directory must be added to CONFIGS, or it goes unchecked."""
    found = {p.parent.relative_to(TERRAFORM).as_posix() for p in TERRAFORM.rglob("*.tf")}
    found = {d for d in found if ".terraform" not in d}
    assert found == set(CONFIGS)


def test_every_environment_has_tfvars_and_a_backend() -> None:
    """An environment is a tfvars file and a backend file, nothing else (no per-env copies of
    the root)."""
    files = {p.name for p in ENV_DIR.iterdir()}
    assert files == {f"{env}.{kind}" for env in ENVS for kind in ("tfvars", "backend.hcl")}


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.long
def test_configuration_validates(validations: dict[str, Outcome], config: str) -> None:
    outcome = validations[config]
    assert outcome.returncode == 0, outcome.output
    report = json.loads(outcome.output)
    assert report["valid"] is True, report["diagnostics"]
    assert report["warning_count"] == 0, report["diagnostics"]


def _tf_text(config: str) -> str:
    return "\n".join(p.read_text() for p in sorted((TERRAFORM / config).glob("*.tf")))


def _assignments(path: Path) -> dict[str, str]:
    """`name = value` lines of a tfvars or backend file (one-line values, comments dropped)."""
    found = {}
    for line in path.read_text().splitlines():
        name, eq, value = line.split("#")[0].partition("=")
        if eq:
            found[name.strip()] = value.strip()
    return found


def test_envs_use_remote_state_with_locking() -> None:
    """One partial `backend "s3"` block in the root; each environment's state its own key (the
    keys of the former envs/<env> roots, so existing state carries over), encrypted and locked."""
    assert re.search(r'^\s*backend\s+"s3"\s*\{\s*\}', _tf_text("."), re.M)
    keys = set()
    for env in ENVS:
        backend = _assignments(ENV_DIR / f"{env}.backend.hcl")
        assert backend["key"] == f'"envs/{env}/terraform.tfstate"', backend
        for setting in ("bucket", "dynamodb_table", "region"):
            assert backend.get(setting, "").startswith('"'), f"{env}: no {setting}"
        assert backend["encrypt"] == "true"
        keys.add(backend["key"])
    assert len(keys) == len(ENVS)


def test_every_environment_sets_every_required_variable() -> None:
    """A tfvars file sets exactly the root's variables: all those without a default (what makes
    an environment what it is: nothing falls back to one environment's value), and no name the
    root does not declare."""
    declared = re.findall(r'^variable "(\w+)" \{(.*?)^\}', _tf_text("."), re.M | re.S)
    required = {name for name, body in declared if not re.search(r"^\s*default\s*=", body, re.M)}
    for env in ENVS:
        tfvars = _assignments(ENV_DIR / f"{env}.tfvars")
        assert required <= set(tfvars), f"{env}.tfvars misses {sorted(required - set(tfvars))}"
        assert set(tfvars) <= {name for name, _ in declared}
        assert tfvars["environment"] == f'"{env}"'


def test_prod_is_redundant_and_protected_dev_is_not() -> None:
    dev, prod = (_assignments(ENV_DIR / f"{env}.tfvars") for env in ENVS)
    for name in ("database_multi_az", "database_deletion_protection", "studio_deletion_protection"):
        assert (dev[name], prod[name]) == ("false", "true"), name
    assert (dev["studio_mfa"], prod["studio_mfa"]) == ('"OPTIONAL"', '"ON"')
    assert prod["studio_threat_protection"] == '"ENFORCED"'
    for name in ("single_nat_gateway", "cpu_spot", "gpu_spot", "bucket_force_destroy"):
        assert (dev[name], prod[name]) == ("true", "false"), name
    assert dev["vpc_cidr"] != prod["vpc_cidr"]


def test_node_groups_match_dagster_placement() -> None:
    """The label, group names and GPU taint the EKS module gives nodes are the ones
    dagster_project/lib/k8s.py selects and tolerates."""
    eks = _tf_text("modules/eks")
    assert re.search(rf'node_label\s*=\s*"{re.escape(k8s.NODE_GROUP_LABEL)}"', eks)
    assert re.search(rf'gpu_taint_key\s*=\s*"{re.escape(k8s.GPU_RESOURCE)}"', eks)
    for group in (k8s.CPU_NODE_GROUP, k8s.GPU_NODE_GROUP):
        assert re.search(rf"^    {group} = \{{", eks, re.M), f"no node group {group!r}"
    gpu_block = eks[eks.index("    gpu = {") :]
    gpu_block = gpu_block[: gpu_block.index("\n    }\n")]
    assert re.search(r"min_size\s*=\s*0\b", gpu_block), "the GPU group must scale from zero"
    assert re.search(r'effect = "NO_SCHEDULE"', gpu_block)
    assert re.search(r"ami_type\s*=\s*var\.gpu_ami_type", gpu_block)
    allowed = re.search(r"contains\((\[[^\]]*\]), var\.gpu_ami_type\)", eks)
    assert allowed is not None
    assert json.loads(allowed.group(1)) == ["AL2023_x86_64_NVIDIA", "BOTTLEROCKET_x86_64_NVIDIA"]
    toleration = k8s.GPU_STEP_K8S_CONFIG["pod_spec_config"]["tolerations"][0]
    assert (toleration["key"], toleration["effect"]) == (k8s.GPU_RESOURCE, "NoSchedule")


def _helm_values() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(HELM_VALUES.read_text())
    return loaded


def test_irsa_role_trusts_the_helm_service_account() -> None:
    values = _helm_values()
    namespace = re.search(r"--namespace (\S+)", HELM_VALUES.read_text())
    assert namespace is not None
    assert values["serviceAccount"]["name"] == values["global"]["serviceAccountName"]
    text = _tf_text(".")  # every environment's
    service_account = values["serviceAccount"]["name"]
    assert re.search(rf'namespace\s*=\s*"{namespace.group(1)}"', text)
    assert re.search(rf'service_account\s*=\s*"{service_account}"', text)


def test_prod_gpu_group_matches_the_gpu_pool() -> None:
    """values.yaml: keep concurrency.pools.defaultLimit equal to the GPU group's maximum size."""
    limit = _helm_values()["concurrency"]["pools"]["defaultLimit"]
    assert int(_assignments(ENV_DIR / "prod.tfvars")["gpu_max_size"]) == limit


def test_iam_policy_names_every_resource() -> None:
    """Least privilege: no statement of the Dagster role's policy grants on a wildcard."""
    iam = (TERRAFORM / "modules" / "iam" / "main.tf").read_text()
    resources = re.findall(r"resources\s*=\s*\[([^\]]*)\]", iam)
    assert len(resources) >= 5
    for listed in resources:
        assert '"*"' not in listed and "arn:aws" not in listed, listed
    assert 'actions   = ["s3:*"' not in iam and '"sqs:*"' not in iam


def test_cloudwatch_exporter_role_only_reads_metrics() -> None:
    """The exporter's wildcard (CloudWatch has no resource-level permissions for reading
    metrics) covers read actions only, in the environment's region, and the role trusts the
    service account deploy/monitoring/values-cloudwatch-exporter.yaml creates."""
    text = (TERRAFORM / "modules" / "iam" / "cloudwatch_exporter.tf").read_text()
    actions = re.findall(r"actions\s*=\s*\[([^\]]*)\]", text)
    assert {a for listed in actions for a in re.findall(r'"([^"]+)"', listed)} == {
        "cloudwatch:GetMetricData",
        "cloudwatch:GetMetricStatistics",
        "cloudwatch:ListMetrics",
    }
    assert "aws:RequestedRegion" in text
    assert (
        'data.aws_iam_policy_document.assume["cloudwatch_exporter"]' in text
    )  # trusts its own account
    trusted = (TERRAFORM / "modules" / "iam" / "main.tf").read_text()
    assert re.search(
        r'cloudwatch_exporter\s*=\s*"\$\{var\.cloudwatch_exporter_namespace\}:'
        r'\$\{var\.cloudwatch_exporter_service_account\}"',
        trusted,
    )
    values = yaml.safe_load(
        (REPO / "deploy/monitoring/values-cloudwatch-exporter.yaml").read_text()
    )
    root = _tf_text(".")  # every environment's
    sa = values["serviceAccount"]["name"]
    assert re.search(rf'cloudwatch_exporter_service_account\s*=\s*"{sa}"', root)
    assert re.search(r'cloudwatch_exporter_namespace\s*=\s*"monitoring"', root)
    assert 'output "cloudwatch_exporter_role_arn"' in root


# --- the studio: what Terraform would create, planned offline -------------------------------

# modules/iam and modules/studio planned with placeholder inputs and a provider that never calls
# AWS (neither module reads anything from the account): the IAM policies and Cognito settings
# below are the JSON and attributes `terraform apply` would send, not the HCL's text.
PLAN_PROVIDER = """
provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "offline"
  secret_key                  = "offline"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}
"""
PLAN_BUCKET = "arn:aws:s3:::shazam-test"
PLAN_STORE_PREFIX = "shazam/"
PLAN_KMS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/test"
PLAN_ISSUER = "oidc.eks.eu-west-1.amazonaws.com/id/TEST"
PLAN_SHOP_HOST = "shop.dev.shazam.example.com"
PLAN_SEARCH_HOST = "search.dev.shazam.example.com"


def _plan_config(tree: Path) -> str:
    """The harness: modules/iam once, modules/studio once per environment with its tfvars'
    settings (the root's `studio.<domain_name>` host), modules/cdn once with a search API and
    once without (its bucket statements as outputs: the root hands them to modules/storage)."""
    modules = tree / "modules"
    blocks = [
        PLAN_PROVIDER,
        f"""module "iam" {{
  source                        = "{modules / "iam"}"
  role_name                     = "shazam-test-dagster"
  oidc_provider_arn             = "arn:aws:iam::123456789012:oidc-provider/{PLAN_ISSUER}"
  oidc_issuer                   = "{PLAN_ISSUER}"
  bucket_arn                    = "{PLAN_BUCKET}"
  kms_key_arn                   = "{PLAN_KMS_KEY}"
  queue_arn                     = "arn:aws:sqs:eu-west-1:123456789012:shazam-test-upload-events"
  cloudwatch_exporter_role_name = "shazam-test-cloudwatch-exporter"
  studio_role_name              = "shazam-test-studio"
  studio_store_prefix           = "{PLAN_STORE_PREFIX}"
  serve_role_name               = "shazam-test-serve"
  serve_store_prefix            = "{PLAN_STORE_PREFIX}"
  alb_controller_role_name      = "shazam-test-alb-controller"
}}
""",
    ]
    for name, search in (("cdn", PLAN_SEARCH_HOST), ("cdn_pages_only", "")):
        blocks.append(
            f"""module "{name}" {{
  source                      = "{modules / "cdn"}"
  name                        = "shazam-test"
  host_name                   = "{PLAN_SHOP_HOST}"
  account_id                  = "123456789012"
  bucket_name                 = "shazam-test"
  bucket_arn                  = "{PLAN_BUCKET}"
  bucket_regional_domain_name = "shazam-test.s3.eu-west-1.amazonaws.com"
  published_prefix            = "{PLAN_STORE_PREFIX}{layout.pages_prefix()}"
  search_host_name            = "{search}"
}}
output "{name}_bucket_policy_statements" {{
  value = module.{name}.bucket_policy_statements
}}
output "{name}_kms_key_policy_statements" {{
  value = module.{name}.kms_key_policy_statements
}}
"""
        )
    for env in ENVS:
        values = _assignments(ENV_DIR / f"{env}.tfvars")
        blocks.append(
            f"""module "studio_{env}" {{
  source              = "{modules / "studio"}"
  name                = "shazam-{env}"
  host_name           = "studio.${{{values["domain_name"]}}}"
  domain_prefix       = {values["studio_sign_in_domain_prefix"]}
  deletion_protection = {values["studio_deletion_protection"]}
  mfa                 = {values["studio_mfa"]}
  threat_protection   = {values["studio_threat_protection"]}
}}
"""
        )
    return "\n".join(blocks)


@dataclass(frozen=True)
class Plan:
    """The harness's plan: data sources as read, resources as they would be created."""

    data: dict[str, dict[str, Any]]
    resources: dict[str, dict[str, Any]]
    outputs: dict[str, dict[str, Any]]  # output_changes: "after" (known parts), "after_unknown"
    configuration: dict[str, Any]

    def policy(self, name: str) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(
            self.data[f"module.iam.data.aws_iam_policy_document.{name}"]["json"]
        )
        return document

    def statements(self, name: str) -> dict[str, dict[str, Any]]:
        return {s["Sid"]: s for s in self.policy(name)["Statement"]}


def _module_values(module: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    yield from module.get("resources", [])
    for child in module.get("child_modules", []):
        yield from _module_values(child)


@pytest.fixture(scope="session")
def plan(
    terraform_bin: str, terraform_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Plan:
    tree = tmp_path_factory.mktemp("plan") / "terraform"
    shutil.copytree(TERRAFORM, tree, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    harness = tree.parent / "harness"
    harness.mkdir()
    (harness / "main.tf").write_text(_plan_config(tree))
    env = {**terraform_env, "TF_DATA_DIR": str(tree.parent / "data")}
    for args in (
        ["init", "-backend=false", "-input=false", "-no-color"],
        ["plan", "-refresh=false", "-input=false", "-no-color", "-out=harness.tfplan"],
    ):
        outcome = _run([terraform_bin, *args], cwd=harness, env=env, timeout=180)
        assert outcome.returncode == 0, outcome.output
    shown = _run(
        [terraform_bin, "show", "-json", "harness.tfplan"], cwd=harness, env=env, timeout=120
    )
    assert shown.returncode == 0, shown.output
    report = json.loads(shown.output)
    data = {
        r["address"]: r["values"]
        for r in _module_values(report["prior_state"]["values"]["root_module"])
    }
    resources = {
        r["address"]: r["values"] for r in _module_values(report["planned_values"]["root_module"])
    }
    return Plan(data, resources, report["output_changes"], report["configuration"])


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def _store_prefixes(kinds: Mapping[str, layout.KeyKind]) -> set[str]:
    """The top-level folders of the store's key kinds (`uploads/`, `decisions/`...)."""
    return {kind.pattern.split("/", 1)[0] + "/" for kind in kinds.values()}


def test_studio_role_may_do_exactly_what_the_studio_does_in_the_store(plan: Plan) -> None:
    """Read the store, presign multipart uploads under uploads/ (and list and abort their parts),
    write records under decisions/, audit/, production/; delete nothing; every key under the
    store's prefix; no wildcard resource."""
    objects = f"{PLAN_BUCKET}/{PLAN_STORE_PREFIX}"
    granted = {
        sid: (sorted(_as_list(s["Action"])), sorted(_as_list(s["Resource"])))
        for sid, s in plan.statements("studio").items()
    }
    assert granted == {
        "ListStore": (["s3:ListBucket"], [PLAN_BUCKET]),
        "ReadStore": (["s3:GetObject"], [f"{objects}*"]),
        "BrowserUploads": (
            ["s3:AbortMultipartUpload", "s3:ListMultipartUploadParts", "s3:PutObject"],
            [f"{objects}uploads/*"],
        ),
        "WriteRecords": (
            ["s3:PutObject"],
            [f"{objects}audit/*", f"{objects}decisions/*", f"{objects}production/*"],
        ),
        "UseStoreKey": (["kms:Decrypt", "kms:GenerateDataKey"], [PLAN_KMS_KEY]),
    }
    assert all(s["Effect"] == "Allow" for s in plan.statements("studio").values())
    # The folders are the store's own (shazam_assets/platform/layout.py): uploads, the studio's
    # decisions and audit log, production tracking; scans/ is read (presigned GET) only.
    folders = _store_prefixes(layout.KINDS)
    assert {"uploads/", "decisions/", "audit/", "production/", "scans/"} <= folders
    assert layout.UPLOAD.pattern.startswith("uploads/")
    assert layout.AUDIT_EVENT.pattern.startswith("audit/")


def test_studio_role_trusts_the_studio_service_account_only(plan: Plan) -> None:
    account = yaml.safe_load((STUDIO_K8S / "serviceaccount.yaml").read_text())["metadata"]
    (statement,) = json.loads(
        plan.data['module.iam.data.aws_iam_policy_document.assume["studio"]']["json"]
    )["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"]["StringEquals"] == {
        f"{PLAN_ISSUER}:sub": f"system:serviceaccount:{account['namespace']}:{account['name']}",
        f"{PLAN_ISSUER}:aud": "sts.amazonaws.com",
    }
    root = _tf_text(".")
    assert re.search(rf'studio_namespace\s*=\s*"{account["namespace"]}"', root)
    assert re.search(rf'studio_service_account\s*=\s*"{account["name"]}"', root)
    assert re.search(r'studio_role_name\s*=\s*"\$\{local\.name\}-studio"', root)  # the annotation's
    assert "studio_store_prefix    = module.storage.store_key_prefix" in root


def test_serve_role_only_reads_the_index_and_the_pages(plan: Plan) -> None:
    """The search service reads search/ and published/ under the store's prefix, lists only
    those folders, writes and deletes nothing."""
    objects = f"{PLAN_BUCKET}/{PLAN_STORE_PREFIX}"
    statements = plan.statements("serve")
    granted = {
        sid: (sorted(_as_list(s["Action"])), sorted(_as_list(s["Resource"])))
        for sid, s in statements.items()
    }
    assert granted == {
        "ListIndexAndPages": (["s3:ListBucket"], [PLAN_BUCKET]),
        "ReadIndexAndPages": (["s3:GetObject"], [f"{objects}published/*", f"{objects}search/*"]),
        "DecryptStore": (["kms:Decrypt"], [PLAN_KMS_KEY]),
    }
    listed = statements["ListIndexAndPages"]["Condition"]["StringLike"]["s3:prefix"]
    assert sorted(_as_list(listed)) == [
        f"{PLAN_STORE_PREFIX}published/*",
        f"{PLAN_STORE_PREFIX}search/*",
    ]
    # The folders are the store's own: the index pointer and the catalogue's data.
    assert layout.search_pointer_key().startswith("search/")
    assert layout.catalogue_key().startswith("published/")


def test_serve_role_trusts_the_service_account_of_the_shop_manifests(plan: Plan) -> None:
    account = yaml.safe_load((SHOP_K8S / "serviceaccount.yaml").read_text())["metadata"]
    (statement,) = json.loads(
        plan.data['module.iam.data.aws_iam_policy_document.assume["serve"]']["json"]
    )["Statement"]
    assert statement["Condition"]["StringEquals"][f"{PLAN_ISSUER}:sub"] == (
        f"system:serviceaccount:{account['namespace']}:{account['name']}"
    )
    root = _tf_text(".")
    assert re.search(rf'serve_namespace\s*=\s*"{account["namespace"]}"', root)
    assert re.search(rf'serve_service_account\s*=\s*"{account["name"]}"', root)
    assert re.search(r'serve_role_name\s*=\s*"\$\{local\.name\}-serve"', root)
    assert account["annotations"]["eks.amazonaws.com/role-arn"].endswith("-serve")
    assert 'output "serve_role_arn"' in root


def test_alb_controller_role_is_the_controllers_published_policy_behind_its_tags(
    plan: Plan,
) -> None:
    """Trusted by kube-system/aws-load-balancer-controller; whatever it may create must carry its
    cluster tag, whatever it may modify or delete must already carry it; and the policy fits
    IAM's inline limit (10,240 characters per role)."""
    (statement,) = json.loads(
        plan.data['module.iam.data.aws_iam_policy_document.assume["alb_controller"]']["json"]
    )["Statement"]
    assert statement["Condition"]["StringEquals"][f"{PLAN_ISSUER}:sub"] == (
        "system:serviceaccount:kube-system:aws-load-balancer-controller"
    )
    statements = plan.statements("alb_controller")
    tag = "elbv2.k8s.aws/cluster"
    for sid in ("CreateTaggedLoadBalancers", "TagNewSecurityGroups", "TagOnCreate"):
        assert statements[sid]["Condition"]["Null"][f"aws:RequestTag/{tag}"] == "false", sid
    for sid in ("ManageOwnSecurityGroups", "ModifyOwnLoadBalancers", "RetagOwnLoadBalancers"):
        assert statements[sid]["Condition"]["Null"][f"aws:ResourceTag/{tag}"] == "false", sid
    # It deletes load balancers, target groups and security groups only when they carry its tag.
    for action in (
        "ec2:DeleteSecurityGroup",
        "elasticloadbalancing:DeleteLoadBalancer",
        "elasticloadbalancing:DeleteTargetGroup",
    ):
        granting = [s for s in statements.values() if action in _as_list(s["Action"])]
        assert granting, action
        for s in granting:
            assert s["Condition"]["Null"][f"aws:ResourceTag/{tag}"] == "false", action
    linked = statements["CreateElbServiceLinkedRole"]["Condition"]["StringEquals"]
    assert linked == {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}
    minified = json.dumps(plan.policy("alb_controller"), separators=(",", ":"))
    assert len(minified) < 10240
    assert not any(a.endswith(":*") for s in statements.values() for a in _as_list(s["Action"]))


@pytest.mark.parametrize("env", ENVS)
def test_studio_sign_in_is_a_confidential_code_flow_client_of_a_strict_pool(
    plan: Plan, env: str
) -> None:
    values = _assignments(ENV_DIR / f"{env}.tfvars")
    host = f"studio.{values['domain_name'].strip(chr(34))}"
    module = f"module.studio_{env}"
    client = plan.resources[f"{module}.aws_cognito_user_pool_client.studio"]
    assert client["generate_secret"] is True
    assert client["allowed_oauth_flows"] == ["code"]
    assert client["allowed_oauth_flows_user_pool_client"] is True
    assert set(client["allowed_oauth_scopes"]) == {"openid", "email", "profile"}
    assert client["callback_urls"] == [f"https://{host}/auth/callback"]
    assert f"https://{host}" in client["logout_urls"]
    assert client["id_token_validity"] == client["access_token_validity"] == 1
    assert client["token_validity_units"][0]["id_token"] == "hours"
    assert client["explicit_auth_flows"] == ["ALLOW_REFRESH_TOKEN_AUTH"]  # no passwords via the app
    pool = plan.resources[f"{module}.aws_cognito_user_pool.studio"]
    (password,) = pool["password_policy"]
    assert password["minimum_length"] >= 14
    assert all(password[f"require_{k}"] for k in ("lowercase", "uppercase", "numbers", "symbols"))
    assert pool["admin_create_user_config"][0]["allow_admin_create_user_only"] is True
    assert pool["mfa_configuration"] == values["studio_mfa"].strip('"')
    assert pool["software_token_mfa_configuration"] == [{"enabled": True}]
    protected = values["studio_deletion_protection"] == "true"
    assert pool["deletion_protection"] == ("ACTIVE" if protected else "INACTIVE")
    mode = values["studio_threat_protection"].strip('"')
    assert pool["user_pool_add_ons"][0]["advanced_security_mode"] == mode
    assert pool["user_pool_tier"] == ("ESSENTIALS" if mode == "OFF" else "PLUS")
    groups = {
        v["name"]
        for k, v in plan.resources.items()
        if k.startswith(f"{module}.aws_cognito_user_group.")
    }
    assert groups == {"artist", "reviewer", "lead", "operator"}
    certificate = plan.resources[f"{module}.aws_acm_certificate.studio[0]"]
    assert certificate["domain_name"] == host and certificate["validation_method"] == "DNS"


def test_the_studio_configmap_template_names_the_terraform_outputs() -> None:
    """The values of deploy/k8s/env/shazam-studio-env come from outputs that exist, and the
    bucket admits browser uploads from the studio's origin only."""
    template = (REPO / "deploy/k8s/env/shazam-studio-env.configmap.yaml").read_text()
    outputs = set(re.findall(r'^output "(\w+)"', _tf_text("."), re.M))
    named = set(re.findall(r"\b(studio_\w+)\b", template.split("apiVersion")[0]))
    assert named and named <= outputs, named - outputs
    root = _tf_text(".")
    assert 'cors_allowed_origins               = ["https://${local.studio_host_name}"]' in root
    assert 'studio_host_name = format("studio.%s", var.domain_name)' in root
    storage = _tf_text("modules/storage")
    cors = storage[storage.index('resource "aws_s3_bucket_cors_configuration"') :]
    cors = cors[: cors.index("\n}\n")]
    assert re.search(r'allowed_methods\s*=\s*\["PUT"\]', cors)
    assert re.search(r'expose_headers\s*=\s*\["ETag"\]', cors)
    assert re.search(r"allowed_origins\s*=\s*var\.cors_allowed_origins", cors)


# --- the shop's CDN (modules/cdn) ------------------------------------------------------------

CDN = TERRAFORM / "modules" / "cdn"
SHOP_ORIGIN = "store-published"  # the distribution's origin for the bucket's published/ tree


def _cdn(plan: Plan, resource: str, module: str = "module.cdn") -> dict[str, Any]:
    return plan.resources[f"{module}.{resource}"]


def _path_matches(pattern: str, path: str) -> bool:
    """CloudFront's path patterns: `*` any characters ('/' included), `?` exactly one."""
    regex = "".join({"*": ".*", "?": "."}.get(c, re.escape(c)) for c in pattern)
    return re.fullmatch(regex, path) is not None


def test_the_cdn_sends_the_policy_the_pages_are_served_with(plan: Plan) -> None:
    """The CSP CloudFront adds is pages_policy() for https://shop.<domain> (what `shazam serve`
    sends for its own origin), from modules/cdn/pages_csp.tftpl, which `make docs` writes from
    Python; the other headers are web.py's, plus HSTS."""
    template = (CDN / "pages_csp.tftpl").read_text()
    assert template == pages_policy("https://${host_name}") + "\n", "run `make docs`"
    expected = pages_policy(f"https://{PLAN_SHOP_HOST}/")
    assert f"script-src https://{PLAN_SHOP_HOST}/_static/ " in expected
    assert web.SECURITY_HEADERS["x-content-type-options"] == "nosniff"
    for kind in ("pages", "immutable", "search"):
        policy = _cdn(plan, f'aws_cloudfront_response_headers_policy.shop["{kind}"]')
        (headers,) = policy["security_headers_config"]
        assert headers["content_security_policy"] == [
            {"content_security_policy": expected, "override": True}
        ], kind
        assert headers["content_type_options"] == [{"override": True}]  # nosniff
        frame, referrer = headers["frame_options"][0], headers["referrer_policy"][0]
        assert frame["frame_option"] == web.SECURITY_HEADERS["x-frame-options"]
        assert referrer["referrer_policy"] == web.SECURITY_HEADERS["referrer-policy"]
        (hsts,) = headers["strict_transport_security"]
        assert hsts["access_control_max_age_sec"] >= 31536000 and hsts["override"]


def test_pointers_expire_within_a_minute_and_content_named_files_last_a_year(plan: Plan) -> None:
    """The edge keeps exactly the keys served_as() marks immutable (release folders, _static/)
    for a year and everything else (the pages, manifests, catalogue) at most a minute; objects
    published before they carried a Cache-Control get served_as()'s value all the same."""
    pages = _cdn(plan, "aws_cloudfront_cache_policy.pages")
    assert (pages["min_ttl"], pages["default_ttl"]) == (0, 30) and pages["max_ttl"] <= 60
    immutable = _cdn(plan, "aws_cloudfront_cache_policy.immutable")
    assert immutable["default_ttl"] == immutable["max_ttl"] == 31536000
    for kind, value in (("pages", serving.POINTER), ("immutable", serving.IMMUTABLE)):
        policy = _cdn(plan, f'aws_cloudfront_response_headers_policy.shop["{kind}"]')
        (custom,) = policy["custom_headers_config"]
        assert custom["items"] == [{"header": "Cache-Control", "value": value, "override": False}]
    assert (
        _cdn(plan, 'aws_cloudfront_response_headers_policy.shop["search"]')["custom_headers_config"]
        == []
    )

    distribution = _cdn(plan, "aws_cloudfront_distribution.shop")
    long_lived = [
        b["path_pattern"]
        for b in distribution["ordered_cache_behavior"]
        if b["target_origin_id"] == SHOP_ORIGIN
    ]
    asin = "B0PAGE0001"
    paths = [
        "index.html",
        "catalog.json",
        "404.html",
        f"{asin}/index.html",
        f"{asin}/manifest.json",
        f"{asin}/r0123456789abcdef/model/chair.glb",
        f"{asin}/r0123456789abcdef/frames/000.webp",
        f"{asin}/r0123/poster.webp",
        "_static/pages.0123456789.css",
        "_static/model-viewer-4.4.0/draco/draco_decoder.wasm",
    ]
    for path in paths:
        year = serving.served_as(layout.page_store_key(path)).cache_control == serving.IMMUTABLE
        assert any(_path_matches(p, f"/{path}") for p in long_lived) == year, path
    for behavior in (
        distribution["default_cache_behavior"][0],
        *distribution["ordered_cache_behavior"],
    ):
        assert behavior["viewer_protocol_policy"] == "redirect-to-https"
        assert behavior["compress"] is True


def test_cloudfront_reads_only_the_published_pages_of_a_private_bucket(plan: Plan) -> None:
    """The origin is <store prefix>published/ read with origin access control (SigV4); the
    bucket policy statement the root hands to modules/storage lets the CloudFront service get
    objects under published/ only, for this distribution only (and decrypt them with the store
    key); the bucket stays public-access-blocked."""
    distribution = _cdn(plan, "aws_cloudfront_distribution.shop")
    origin = next(o for o in distribution["origin"] if o["origin_id"] == SHOP_ORIGIN)
    assert origin["origin_path"] == f"/{PLAN_STORE_PREFIX}{layout.pages_prefix()}".rstrip("/")
    assert origin["s3_origin_config"] == [] and origin["custom_origin_config"] == []
    control = _cdn(plan, "aws_cloudfront_origin_access_control.store")
    assert (
        control["origin_access_control_origin_type"],
        control["signing_behavior"],
        control["signing_protocol"],
    ) == ("s3", "always", "sigv4")

    outputs = plan.configuration["root_module"]["module_calls"]["cdn"]["module"]["outputs"]
    for name, action, resource in (
        (
            "bucket_policy_statements",
            "s3:GetObject",
            f"{PLAN_BUCKET}/{PLAN_STORE_PREFIX}{layout.pages_prefix()}*",
        ),
        ("kms_key_policy_statements", "kms:Decrypt", "*"),
    ):
        (statement,) = plan.outputs[f"cdn_{name}"]["after"]
        (unknown,) = plan.outputs[f"cdn_{name}"]["after_unknown"]
        assert statement["Effect"] == "Allow" and statement["Action"] == action, name
        assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}, name
        assert statement["Resource"] == resource, name
        # AWS:SourceArn is the distribution's ARN (known once it exists), nothing else
        assert statement["Condition"] == {"StringEquals": {}}, name
        assert unknown["Condition"] == {"StringEquals": {"AWS:SourceArn": True}}, name
        assert "aws_cloudfront_distribution.shop.arn" in outputs[name]["expression"]["references"]

    root = _tf_text(".")
    assert "bucket_policy_statements  = module.cdn.bucket_policy_statements" in root
    assert "kms_key_policy_statements = module.cdn.kms_key_policy_statements" in root
    assert "published_prefix            = module.storage.published_prefix" in root
    storage = _tf_text("modules/storage")
    assert f'published_prefix    = "${{local.store_prefix}}{layout.pages_prefix()}"' in storage
    assert "Statement = var.bucket_policy_statements" in storage
    assert "], var.kms_key_policy_statements)" in storage
    block = storage[storage.index('resource "aws_s3_bucket_public_access_block" "store"') :]
    block = block[: block.index("\n}\n")]
    for setting in ("block_public_acls", "block_public_policy", "ignore_public_acls"):
        assert re.search(rf"{setting}\s*=\s*true", block), setting
    assert re.search(r"restrict_public_buckets\s*=\s*true", block)


def test_the_shop_answers_on_its_own_name_over_tls_with_404s_for_what_is_not_published(
    plan: Plan,
) -> None:
    distribution = _cdn(plan, "aws_cloudfront_distribution.shop")
    assert distribution["aliases"] == [PLAN_SHOP_HOST]
    (certificate,) = distribution["viewer_certificate"]
    assert certificate["minimum_protocol_version"] == "TLSv1.2_2021"
    assert certificate["ssl_support_method"] == "sni-only"
    assert _cdn(plan, "aws_acm_certificate.shop[0]")["domain_name"] == PLAN_SHOP_HOST
    assert 'shop_host_name = format("shop.%s", var.domain_name)' in _tf_text(".")
    assert "aws = aws.us_east_1" in _tf_text(".")  # CloudFront's certificates live there
    not_found = "/" + layout.page_relative(layout.not_found_page_key())
    assert {
        (e["error_code"], e["response_code"], e["response_page_path"])
        for e in distribution["custom_error_response"]
    } == {(403, 404, not_found), (404, 404, not_found)}
    assert all(e["error_caching_min_ttl"] <= 10 for e in distribution["custom_error_response"])
    assert distribution["default_root_object"] == layout.PAGE_NAME
    (function,) = distribution["default_cache_behavior"][0]["function_association"]
    assert function["event_type"] == "viewer-request"
    assert _cdn(plan, "aws_wafv2_web_acl.shop")["scope"] == "CLOUDFRONT"


def test_the_search_api_shares_the_shops_origin_uncached(plan: Plan) -> None:
    """The catalogue page asks `/search` on its own origin (its CSP allows no other): with a
    search host, /search* goes there first, every query string passed on, nothing cached;
    without one there is no such behaviour."""
    assert markup.SEARCH_API == "/search"
    distribution = _cdn(plan, "aws_cloudfront_distribution.shop")
    first = distribution["ordered_cache_behavior"][0]
    assert first["path_pattern"] == "/search*" and first["target_origin_id"] == "search-api"
    assert "POST" in first["allowed_methods"]  # POST /search/image
    origin = next(o for o in distribution["origin"] if o["origin_id"] == "search-api")
    assert origin["domain_name"] == PLAN_SEARCH_HOST
    (custom,) = origin["custom_origin_config"]
    assert custom["origin_protocol_policy"] == "https-only"
    cache = _cdn(plan, "aws_cloudfront_cache_policy.search[0]")
    assert cache["min_ttl"] == cache["default_ttl"] == cache["max_ttl"] == 0
    request = _cdn(plan, "aws_cloudfront_origin_request_policy.search[0]")
    assert request["query_strings_config"][0]["query_string_behavior"] == "all"
    alone = _cdn(plan, "aws_cloudfront_distribution.shop", "module.cdn_pages_only")
    assert [o["origin_id"] for o in alone["origin"]] == [SHOP_ORIGIN]
    assert all(b["target_origin_id"] == SHOP_ORIGIN for b in alone["ordered_cache_behavior"])


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the function")
def test_the_viewer_request_function_finds_pages_like_shazam_serve() -> None:
    """CloudFront's function (modules/cdn/pages.js, run here by node): a folder URL reads its
    index.html, a product folder without its slash redirects to it, anything else goes as is;
    the store keys it asks for are those `shazam serve` maps the same URLs to."""
    script = (CDN / "pages.js").read_text() + (
        "\nconst uris = JSON.parse(process.argv[1]);"
        "\nconsole.log(JSON.stringify(uris.map((uri) => handler({request: {uri}}))));"
    )
    uris = ["/", "/B0PAGE0001/", "/B0PAGE0001", "/0306406152", "/B0PAGE0001/manifest.json"]
    done = subprocess.run(
        ["node", "-e", script, json.dumps(uris)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    answers = dict(zip(uris, json.loads(done.stdout), strict=True))
    for uri in ("/", "/B0PAGE0001/", "/B0PAGE0001/manifest.json"):
        key = layout.page_store_key(answers[uri]["uri"].lstrip("/"))
        assert key == store_key(uri.lstrip("/")), uri
    for uri in ("/B0PAGE0001", "/0306406152"):  # an ASIN, and an ISBN-10 one
        assert answers[uri]["statusCode"] == 308
        assert answers[uri]["headers"]["location"]["value"] == uri + "/"


# --- checkov -----------------------------------------------------------------------------


def _checkov_venv() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "shazam" / f"checkov-{CHECKOV_VERSION}"


def _build_checkov_venv(venv: Path) -> None:
    """Create the venv and install the pinned checkov into it; skip the test if that fails
    (offline, no package index)."""
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            f"checkov=={CHECKOV_VERSION}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if pip.returncode != 0:
        shutil.rmtree(venv, ignore_errors=True)
        pytest.skip(f"could not install checkov=={CHECKOV_VERSION}: {pip.stderr[-500:]}")
    (venv / ".complete").touch()


@pytest.fixture(scope="session")
def checkov() -> Iterator[list[str]]:
    """Command prefix that runs checkov."""
    explicit = os.environ.get("SHAZAM_CHECKOV")
    if explicit:
        yield [explicit]
        return
    venv = _checkov_venv()
    venv.parent.mkdir(parents=True, exist_ok=True)
    with (venv.parent / f"{venv.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another session may be building it
        if not (venv / ".complete").exists():
            _build_checkov_venv(venv)
    yield [str(venv / "bin" / "python"), "-m", "checkov.main"]


def _checkov_report(command: list[str], *args: str) -> dict[str, Any]:
    """Run checkov over terraform/ (offline) and return its JSON report."""
    proc = subprocess.run(
        [*command, *CHECKOV_FLAGS, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    reports = report if isinstance(report, list) else [report]
    assert len(reports) == 1, [r.get("check_type") for r in reports]
    result: dict[str, Any] = reports[0]
    return result


def _skips() -> tuple[list[str], list[str]]:
    """(every skipped check, the dev-only ones listed after the `dev-only` marker)."""
    skips = yaml.safe_load(CHECKOV_CONFIG.read_text())["skip-check"]
    text = CHECKOV_CONFIG.read_text()
    dev_part = text[text.index("dev-only") :]
    dev_only = re.findall(r"^\s*-\s*(CKV\w+)", dev_part, re.M)
    return skips, dev_only


# Checks skipped on one block only (`#checkov:skip=<id>:<reason>` inside it), where a skip for
# the whole tree would hide the same finding elsewhere: the AWS Load Balancer Controller's
# published policy grants on "*" for resources that do not exist yet, guarded by tag conditions;
# the shop's distribution logs through standard logging v2 (which checkov does not see), has one
# origin by design and refuses no country.
INLINE_SKIPS = {
    ("modules/iam/alb_controller.tf", "CKV_AWS_111"),
    ("modules/iam/alb_controller.tf", "CKV_AWS_356"),
    ("modules/cdn/main.tf", "CKV_AWS_86"),
    ("modules/cdn/main.tf", "CKV_AWS_310"),
    ("modules/cdn/main.tf", "CKV_AWS_374"),
}


def test_every_checkov_skip_has_a_reason() -> None:
    lines = CHECKOV_CONFIG.read_text().splitlines()
    skips, dev_only = _skips()
    assert skips and set(dev_only) <= set(skips)
    for i, line in enumerate(lines):
        if re.match(r"^\s*-\s*CKV", line):
            assert lines[i - 1].strip().startswith("#"), f"no reason above {line.strip()}"
    inline = set()
    for path in TERRAFORM.rglob("*.tf"):
        for found in re.finditer(r"checkov:skip=(\w+)(?::(.*))?", path.read_text()):
            assert len((found.group(2) or "").strip()) > 20, f"no reason for {found.group(0)}"
            inline.add((path.relative_to(TERRAFORM).as_posix(), found.group(1)))
    assert inline == INLINE_SKIPS


def _var_file(env: str, tree: Path = TERRAFORM) -> tuple[str, str]:
    return ("--var-file", str(tree / "env" / f"{env}.tfvars"))


@pytest.mark.parametrize("env", ENVS)
def test_checkov_finds_no_unexplained_failures(checkov: list[str], env: str) -> None:
    report = _checkov_report(
        checkov, "-d", "terraform", "--config-file", str(CHECKOV_CONFIG), *_var_file(env)
    )
    failed = [
        f"{c['check_id']} {c['resource']} ({c.get('caller_file_path') or c['file_path']}): "
        f"{c['check_name']}"
        for c in report.get("results", {}).get("failed_checks", [])
    ]
    assert not failed, "\n".join(failed)
    assert report["summary"]["passed"] > 200  # it really scanned the modules
    assert report["summary"]["parsing_errors"] == 0


def _render_root(env: str, tree: Path, keep: tuple[str, ...]) -> Path:
    """The root as a configuration of its own for `env`, in `tree`: every variable that
    env/<env>.tfvars sets written in as its value (what Terraform does with -var-file), the
    account's bucket name left a variable. checkov 3.3.30 does not evaluate the database's
    Multi-AZ and deletion-protection checks through this root's tfvars (it returns UNKNOWN and
    drops them), so the dev-only test reads the values written in. Only the modules named in
    `keep` are composed (and no outputs, which name every module): with every module, checkov 3.3.30 answers `--check` on
    this root with an empty report (no resources at all) since the studio's module joined."""
    values = _assignments(ENV_DIR / f"{env}.tfvars")
    values.pop("bucket_name")
    root = tree / f"root-{env}"
    root.mkdir(parents=True)
    for source in TERRAFORM.glob("*.tf"):
        text = source.read_text().replace('"./modules/', f'"{TERRAFORM / "modules"}/')
        text = re.sub(r"\bvar\.(\w+)\b", lambda m: values.get(m[1], m[0]), text)
        if source.name == "main.tf":
            for module in set(re.findall(r'^module "(\w+)"', text, re.M)) - set(keep):
                text = re.sub(rf'^module "{module}" {{.*?^}}\n', "", text, flags=re.M | re.S)
        elif source.name == "outputs.tf":
            text = ""
        (root / source.name).write_text(text)
    return root


# The modules whose resources the dev-only checks concern (RDS deletion protection, Multi-AZ).
DEV_ONLY_MODULES = ("database",)


def _dev_only_failures(checkov: list[str], env: str, tree: Path) -> tuple[list[str], int]:
    """The dev-only checks on the root rendered for `env`, without terraform/.checkov.yaml
    (whose skip list names them): (failed, passed)."""
    _, dev_only = _skips()
    root = _render_root(env, tree, keep=DEV_ONLY_MODULES)
    report = _checkov_report(checkov, "-d", str(root), "--check", ",".join(dev_only))
    failed = [c["check_id"] for c in report.get("results", {}).get("failed_checks", [])]
    return failed, report["summary"]["passed"]


def test_dev_only_skips_pass_in_prod(checkov: list[str], tmp_path: Path) -> None:
    """Checks skipped because dev relaxes them (deletion protection, Multi-AZ) hold in prod,
    and really are what dev relaxes: the same checks fail with dev's values."""
    _, dev_only = _skips()
    failed, passed = _dev_only_failures(checkov, "prod", tmp_path)
    assert not failed
    assert passed >= len(dev_only)
    failed, _ = _dev_only_failures(checkov, "dev", tmp_path)
    assert sorted(failed) == sorted(dev_only)
