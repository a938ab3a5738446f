#!/usr/bin/env bash
# A one-node Slurm cluster on this machine (Debian's slurm-wlm: slurmctld, slurmd, munge), to run the jobs
# of containers/slurm/ under a real Slurm.
#
#   containers/slurm/local-cluster.sh install   # apt-get install slurm-wlm munge if missing (root)
#   containers/slurm/local-cluster.sh start     # install, write slurm.conf, start munged/slurmctld/slurmd
#   containers/slurm/local-cluster.sh status    # daemons, sinfo, squeue
#   containers/slurm/local-cluster.sh stop      # stop the daemons this script started
#   containers/slurm/local-cluster.sh --test    # start, run the checks below, stop; exit 0 only if all pass
#   containers/slurm/local-cluster.sh --test --timelimit   # also the --time expiry check (~1.5 min more)
#
# --test submits, with the gpfem of this checkout (.venv, PYTHONPATH=<checkout>):
#   1. gpfem-run.sbatch with 2 tasks (Cahn-Hilliard 'ci'), launched with mpiexec and with
#      srun --mpi=pmi2; each history.csv must equal that of a plain `.venv/bin/mpiexec -n 2` run to
#      rel. 1e-9 (abs. 1e-12);
#   2. scaling.sbatch, Cahn-Hilliard weak scaling over 1 and 2 ranks (n1 = 24); problem, mode, ranks, DOFs,
#      steps, Newton and KSP iterations and status of each row must equal those of the same script run
#      without Slurm;
#   3. gpfem-run.sbatch with fracture 'sent-ci', cancelled with scancel in its crack step: the job must
#      end CANCELLED with summary 'interrupted' and a checkpoint at the last history row; resubmitted with
#      RESTART=1, it must end with the history of an uninterrupted plain run (rel. 1e-9, abs. 1e-12);
#   4. (--timelimit) a restart job that can never finish (Newton with the convergence test 'skip') and
#      --time=1: Slurm ends it (TIMEOUT) with SIGTERM; the checkpoint must still be the last history row.
#
# Environment: GPFEM_SLURM_DIR (state, logs and runs; default /tmp/gpfem-slurm), KEEP=1 (keep the daemons
# running after --test). Launchers inside the allocation, all tried here: the wheel's MPICH mpiexec
# (hydra; inside an allocation it starts its proxies with srun, `-launcher fork` works too on one node)
# and `srun --mpi=pmi2`. Plain `srun` (MpiDefault=none) starts N separate 1-rank runs: never use it.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DIR=${GPFEM_SLURM_DIR:-/tmp/gpfem-slurm}
export SLURM_CONF=$DIR/etc/slurm.conf
HOST=$(hostname -s)

say() { echo "[local-cluster] $*"; }
die() { echo "[local-cluster] error: $*" >&2; exit 1; }
alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

cmd_install() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null \
     && command -v munged >/dev/null; then
    return 0
  fi
  [[ $(id -u) == 0 ]] || die "slurm-wlm is not installed and installing it needs root"
  command -v apt-get >/dev/null || die "slurm-wlm is not installed and there is no apt-get"
  local t0=$SECONDS
  say "installing slurm-wlm and munge (apt-get) ..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
  say "installed $(dpkg-query -W -f '${Version}' slurmctld) in $((SECONDS - t0)) s"
}

write_conf() {
  mkdir -p "$DIR/etc" "$DIR/ctld" "$DIR/d" "$DIR/log" "$DIR/run"
  local node
  # NodeName=... CPUs=... Boards=... RealMemory=...: this machine as slurmd measures it
  node=$(slurmd -C | head -1 | sed "s/^NodeName=[^ ]*/NodeName=$HOST/")
  [[ $node == NodeName=* ]] || die "slurmd -C printed no node line"
  cat >"$SLURM_CONF" <<EOF
# written by containers/slurm/local-cluster.sh: one node, this machine
ClusterName=gpfem-local
SlurmctldHost=$HOST
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$DIR/ctld
SlurmdSpoolDir=$DIR/d
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
KillWait=30
OverTimeLimit=0
MinJobAge=3600
$node State=UNKNOWN
PartitionName=local Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
}

cmd_start() {
  cmd_install
  write_conf
  if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    [[ -f /etc/munge/munge.key ]] || { mungekey --create 2>/dev/null || \
      dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none; }
    chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge
    runuser -u munge -- /usr/sbin/munged
    touch "$DIR/run/munged.ours"
    say "munged started"
  fi
  if ! alive "$DIR/run/slurmctld.pid"; then
    slurmctld -c  # -c: a fresh controller (no jobs left from an earlier session)
    say "slurmctld started"
  fi
  if ! alive "$DIR/run/slurmd.pid"; then
    slurmd
    say "slurmd started"
  fi
  local t
  for t in $(seq 1 60); do
    if sinfo -h -n "$HOST" -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
      say "node $HOST: $(sinfo -h -n "$HOST" -o '%T, %c CPUs, %m MB')"
      return 0
    fi
    ((t == 10)) && scontrol update nodename="$HOST" state=resume 2>/dev/null || true
    sleep 0.5
  done
  die "node $HOST did not come up; see $DIR/log/slurmctld.log and $DIR/log/slurmd.log"
}

stop_pidfile() {
  local f=$1 name=$2 pid i
  alive "$f" || return 0
  pid=$(cat "$f")
  kill -TERM "$pid"
  for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  say "$name stopped"
}

cmd_stop() {
  stop_pidfile "$DIR/run/slurmd.pid" slurmd
  stop_pidfile "$DIR/run/slurmctld.pid" slurmctld
  if [[ -f $DIR/run/munged.ours ]]; then
    stop_pidfile /run/munge/munged.pid munged
    rm -f "$DIR/run/munged.ours"
  fi
}

cmd_status() {
  local d
  for d in slurmctld slurmd; do
    if alive "$DIR/run/$d.pid"; then echo "$d: running (pid $(cat "$DIR/run/$d.pid"))"; else echo "$d: stopped"; fi
  done
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then echo "munge: working"; else echo "munge: not working"; fi
  if alive "$DIR/run/slurmctld.pid"; then sinfo; squeue; fi
}

# ---------------------------------------------------------------------------------------------------------
# --test

job_state() { scontrol show job "$1" 2>/dev/null | grep -oP 'JobState=\K\S+' || echo GONE; }

wait_job() {  # wait_job ID TIMEOUT: until the job left the queue; prints its final state
  local id=$1 limit=$2 t0=$SECONDS s
  while :; do
    s=$(job_state "$id")
    case $s in PENDING | RUNNING | CONFIGURING | COMPLETING | SUSPENDED) ;; *) echo "$s"; return 0 ;; esac
    ((SECONDS - t0 > limit)) && { scancel "$id" || true; echo "HUNG"; return 0; }
    sleep 0.5
  done
}

rows() { [[ -f $1 ]] && tail -n +2 "$1" | wc -l || echo 0; }

check() {  # check NAME CONDITION...: record one check
  local name=$1
  shift
  if "$@"; then say "PASS $name"; else say "FAIL $name"; FAILED+=("$name"); fi
}

same_history() { "$PY" - "$1" "$2" <<'EOF'
import csv, math, sys
a, b = (list(csv.DictReader(open(p))) for p in sys.argv[1:3])
worst = 0.0
ok = len(a) == len(b) > 1 and all(r.keys() == s.keys() for r, s in zip(a, b))
counts = 0
for r, s in zip(a, b):
    for k in s:
        x, y = float(r[k] or "nan"), float(s[k] or "nan")
        if math.isnan(x) or math.isnan(y):  # e.g. no crack yet: no tip in either run (NaN in one: a failure)
            ok = ok and math.isnan(x) and math.isnan(y)
            continue
        if k.endswith("iterations"):
            # a count: the jobs' and the plain run's reductions differ in round-off (the CH rows: ~4e-16),
            # which can move one Newton residual across its tolerance; the state columns stay at 1e-9
            ok = ok and abs(x - y) <= 1
            counts = counts + (x != y)
            continue
        ok = ok and math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)
        worst = max(worst, abs(x - y) / abs(y) if y else abs(x))
print(f"  {sys.argv[1]}: {len(a)} rows vs {len(b)}, max relative difference {worst:.2e}, "
      f"{counts} iteration count(s) off by one")
sys.exit(0 if ok else 1)
EOF
}

checkpoint_is_last_row() { "$PY" - "$1" <<'EOF'
import csv, json, sys
import numpy as np
d = sys.argv[1]
rows = list(csv.DictReader(open(f"{d}/history.csv")))
with np.load(f"{d}/checkpoint.npz") as z:
    meta = json.loads(str(z["__meta__"]))
status = json.load(open(f"{d}/summary.json"))["status"]
print(f"  {d}: summary '{status}', checkpoint step {meta['step']}, last history row {rows[-1]['step']}")
sys.exit(0 if status == "interrupted" and meta["step"] == int(rows[-1]["step"]) else 1)
EOF
}

scaling_columns() {  # the columns of benchmarks/scaling.py's table that do not depend on timing
  "$PY" - "$1" <<'EOF2'
import sys
rows = [[c.strip() for c in ln.strip().strip("|").split("|")] for ln in open(sys.argv[1]) if ln.startswith("| ")]
keep = [rows[0].index(k) for k in ("problem", "mode", "ranks", "DOFs", "steps", "Newton", "KSP", "status")]
for r in rows[1:]:
    print(" | ".join(r[i] for i in keep))
EOF2
}

same_scaling_table() {  # problem, mode, ranks, DOFs, steps, Newton, KSP and status of the two tables
  local a b
  a=$(scaling_columns "$1")
  b=$(scaling_columns "$2")
  echo "$a" | sed 's/^/  slurm: /'
  [[ -n $a && $a == "$b" && $(echo "$a" | grep -c completed) == 2 ]]
}

cmd_test() {
  local timelimit=${1:-}
  local t_all=$SECONDS
  mkdir -p "$DIR"
  exec 9>"$DIR/test.lock"  # one --test at a time: a second one would stop the daemons under the first
  flock -w 1800 9 || die "another local-cluster.sh --test holds $DIR/test.lock"
  cmd_start
  trap '[[ -z ${KEEP:-} ]] && cmd_stop' EXIT
  [[ -x $ROOT/.venv/bin/gpfem ]] || die "no $ROOT/.venv (run scripts/setup.sh)"
  PY=$ROOT/.venv/bin/python
  export PYTHONPATH=$ROOT OMP_NUM_THREADS=1
  export GPFEM=$ROOT/.venv/bin/gpfem MPIEXEC=$ROOT/.venv/bin/mpiexec
  local W
  W=$DIR/test-$(date +%Y%m%d-%H%M%S)
  mkdir -p "$W"
  cd "$ROOT"
  FAILED=()
  local SB=(sbatch --parsable --chdir="$ROOT" --nodes=1 --ntasks=2 --ntasks-per-node=2 --gpus-per-node=0 --time=00:10:00)
  local CH=(--set t_end=2 --set png=false) FR=(--set png=false)

  say "plain mpiexec -n 2 references ..."
  local t0=$SECONDS
  "$MPIEXEC" -n 2 "$GPFEM" run cahn-hilliard --preset ci --out "$W/ref-ch" --quiet "${CH[@]}"
  "$MPIEXEC" -n 2 "$GPFEM" run fracture --preset sent-ci --out "$W/ref-sent" --quiet "${FR[@]}"
  "$PY" benchmarks/scaling.py --mode weak --problems ch2d --n1 24 --ranks 1 2 >"$W/ref-scaling.txt"
  say "references: $((SECONDS - t0)) s"

  t0=$SECONDS
  local j1 j1s j2 s1 s1s s2
  j1=$(MODEL=cahn-hilliard PRESET=ci OUT=$W/slurm-ch GPFEM_ARGS="${CH[*]}" \
       "${SB[@]}" --output="$W/ch-%j.out" containers/slurm/gpfem-run.sbatch)
  j1s=$(MODEL=cahn-hilliard PRESET=ci OUT=$W/slurm-ch-srun GPFEM_ARGS="${CH[*]}" MPIEXEC="srun --mpi=pmi2" \
        "${SB[@]}" --output="$W/ch-srun-%j.out" containers/slurm/gpfem-run.sbatch)
  j2=$(MODE=weak PROBLEMS=ch2d N1=24 RANKS="1 2" PYTHON=$PY "${SB[@]}" --output="$W/scaling-%j.out" \
       containers/slurm/scaling.sbatch)
  say "submitted gpfem-run.sbatch with mpiexec (job $j1) and srun --mpi=pmi2 (job $j1s), scaling.sbatch (job $j2)"
  s1=$(wait_job "$j1" 300)
  s1s=$(wait_job "$j1s" 300)
  s2=$(wait_job "$j2" 300)
  say "jobs $j1: $s1, $j1s: $s1s, $j2: $s2 ($((SECONDS - t0)) s for the three)"
  check "gpfem-run.sbatch job COMPLETED" test "$s1" = COMPLETED
  check "gpfem-run.sbatch history = plain mpiexec -n 2" same_history "$W/slurm-ch/history.csv" "$W/ref-ch/history.csv"
  check "gpfem-run.sbatch (srun --mpi=pmi2) job COMPLETED" test "$s1s" = COMPLETED
  check "gpfem-run.sbatch (srun --mpi=pmi2) on 2 ranks" grep -q '"mpi_size": 2' "$W/slurm-ch-srun/summary.json"
  check "gpfem-run.sbatch (srun --mpi=pmi2) history = plain mpiexec -n 2" \
    same_history "$W/slurm-ch-srun/history.csv" "$W/ref-ch/history.csv"
  check "scaling.sbatch job COMPLETED" test "$s2" = COMPLETED
  check "scaling.sbatch table = plain run" same_scaling_table "$W/scaling-$j2.out" "$W/ref-scaling.txt"

  # scancel in the crack step (step 12 of sent-ci: ~140 alternate minimisations), then restart
  t0=$SECONDS
  local j3 j4 s3 s4 n
  j3=$(MODEL=fracture PRESET=sent-ci OUT=$W/slurm-sent GPFEM_ARGS="${FR[*]}" \
       "${SB[@]}" --output="$W/sent-%j.out" containers/slurm/gpfem-run.sbatch)
  while [[ $(job_state "$j3") =~ PENDING|RUNNING|CONFIGURING ]] && (($(rows "$W/slurm-sent/history.csv") < 12)); do
    sleep 0.1
  done
  n=$(rows "$W/slurm-sent/history.csv")
  local tc=$SECONDS
  scancel "$j3"
  s3=$(wait_job "$j3" 120)
  say "job $j3 cancelled after $n history rows: $s3 $((SECONDS - tc)) s after scancel ($(tr '\n' ' ' \
    < "$W/sent-$j3.out" | grep -oE 'stopped \(exit 130\)' || echo 'no clean stop'))"
  check "scancel: job CANCELLED" test "$s3" = CANCELLED
  check "scancel: gpfem stopped cleanly (exit 130)" grep -q "^stopped (exit 130)" "$W/sent-$j3.out"
  check "scancel: checkpoint = last history row" checkpoint_is_last_row "$W/slurm-sent"
  if [[ -n $timelimit ]]; then
    local j5 s5
    j5=$(MODEL=fracture OUT=$W/slurm-sent RESTART=1 GPFEM_ARGS="-gpfem_damage_snes_convergence_test skip
         -gpfem_damage_snes_max_it 1000000000" \
         "${SB[@]}" --time=1 --output="$W/timeout-%j.out" containers/slurm/gpfem-run.sbatch)
    s5=$(wait_job "$j5" 240)
    say "job $j5 (--time=1, a step that never ends): $s5, $(scontrol show job "$j5" | grep -oP 'RunTime=\S+')"
    check "--time expiry: job TIMEOUT" test "$s5" = TIMEOUT
    check "--time expiry: checkpoint = last history row" checkpoint_is_last_row "$W/slurm-sent"
  fi
  j4=$(MODEL=fracture OUT=$W/slurm-sent RESTART=1 "${SB[@]}" --output="$W/restart-%j.out" \
       containers/slurm/gpfem-run.sbatch)
  s4=$(wait_job "$j4" 300)
  say "restart job $j4: $s4"
  check "restart job COMPLETED" test "$s4" = COMPLETED
  check "restarted history = uninterrupted plain run" same_history "$W/slurm-sent/history.csv" "$W/ref-sent/history.csv"
  say "cancel + restart: $((SECONDS - t0)) s; whole test $((SECONDS - t_all)) s; outputs in $W"
  if ((${#FAILED[@]})); then
    say "${#FAILED[@]} check(s) failed: ${FAILED[*]}"
    return 1
  fi
  say "all checks passed"
}

case ${1:-} in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  --test | test) cmd_test "${2:-}" ;;
  *) echo "usage: $0 install|start|stop|status|--test [--timelimit]" >&2; exit 2 ;;
esac
