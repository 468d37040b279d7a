"""Activity names: the only thing workflows know about activities (no imports of their code)."""

PREPARE_WORKSPACE = "prepare_workspace"
RUN_BUILD = "run_build"
TRIAGE = "triage"
DIAGNOSE = "diagnose"
REVIEW_PATCH = "review_patch"
VERIFY_BUILD = "verify_build"
PUBLISH_FIX = "publish_fix"
LLM_DIAGNOSE = "llm_diagnose"
SECURITY_REVIEW = "security_review"

ALL = (PREPARE_WORKSPACE, RUN_BUILD, TRIAGE, DIAGNOSE, REVIEW_PATCH, VERIFY_BUILD, PUBLISH_FIX, LLM_DIAGNOSE, SECURITY_REVIEW)
