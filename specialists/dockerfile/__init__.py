"""The Dockerfile specialist (``diagnose``) and the lookups it is given: the distribution's apt
packages (``AptLookup``) and an image's existing tags (``ListImageTags``). The specialist is pure;
the worker's real lookups live in ``activities.docker_lookups``."""

from specialists.dockerfile.apt import AptLookup, AptPackage
from specialists.dockerfile.base_image import ListImageTags, choose_tag
from specialists.dockerfile.case import NAME
from specialists.dockerfile.specialist import diagnose

__all__ = ["NAME", "AptLookup", "AptPackage", "ListImageTags", "choose_tag", "diagnose"]
