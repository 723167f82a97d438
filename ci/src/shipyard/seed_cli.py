"""``python3 -m shipyard.seed_cli``: lay out a rehearsal account through the rehearsal front and
push the release's image manifest to its ECR; prints the account as one JSON line.

The Dagger module runs this inside the engine, next to the front it seeds.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from shipyard.rehearsal.seed import push_image, seed_account


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m shipyard.seed_cli", description=__doc__)
    parser.add_argument("--endpoint-url", required=True, help="the rehearsal front")
    parser.add_argument("--tag", required=True, help="tag of the release's image (git SHA)")
    parser.add_argument("--cluster", default="scidata")
    parser.add_argument("--region", default="ap-southeast-2")
    args = parser.parse_args(argv)
    account = seed_account(args.endpoint_url, cluster=args.cluster, region=args.region)
    release = push_image(args.endpoint_url, args.region, account.repository, args.tag)
    print(
        json.dumps(
            {
                "cluster": account.cluster,
                "services": list(account.services),
                "containers": account.containers,
                "previous_image": account.image,
                "image": release,
                "region": account.region,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
