"""Deploy rehearsals without a cloud account: an ECS rollout simulator in front of moto.

moto (5.2) stores ECS, ECR, logs, IAM and STS resources but never moves a deployment: services
stay at their first deployment and `update_service` adds none. This package supplies the
missing scheduler and serves it as one AWS endpoint:

- `model.RolloutModel`: a deterministic model of the ECS service scheduler with an injectable
  clock (simulated seconds). Deployments go PRIMARY/ACTIVE/INACTIVE with rolloutState
  IN_PROGRESS → COMPLETED, or FAILED by the deployment circuit breaker (threshold: half the
  desired count, 3..200) with an optional rollback; tasks go PENDING → RUNNING → STOPPED with
  ECS's stoppedReason/stopCode/exit codes; events use ECS's wording; `app_probe` ties a
  service's health to a real running app. What it holds is in `ecs_state`, its answers in the
  ECS API's shapes are built by `ecs_shapes`.
- `faults`: faults per service (`SERVICE=KIND[@N]`): crash (exit code 1 and log lines),
  unhealthy (ELB health checks), pull_error (CannotPullContainerError), slow; which deployments
  each hits and how their tasks end.
- `front.RehearsalFront`: answers the rollout-relevant ECS calls (CreateService,
  DescribeServices, UpdateService, ListTasks, DescribeTasks) from moto's data with the model's
  state laid over it, forwards every other request to moto unchanged, and writes the tasks'
  CloudWatch log lines into moto's logs API. `GET /_rehearsal/{health,calls,clock,transitions}`
  report on it.
- `seed.seed_account`: the resources terraform would create (roles, log group, ECR image,
  cluster, task definitions, services with the circuit breaker on), through the front.
- `local`: moto's server and the front on loopback ports (tests, benches).

Run next to a moto server (the `rehearse` stage does)::

    python -m moto.server -p 5000 &
    python -m shipyard.tools.rehearsal --moto-url http://127.0.0.1:5000 --port 5001 \\
        --fault timeseries=crash --app tiles=http://127.0.0.1:8080/health --time-scale 20

then point boto3 (or `shipyard.tools.deploy` with `endpoint_url`) at http://127.0.0.1:5001.
"""
