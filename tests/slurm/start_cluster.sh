#!/usr/bin/env bash
# start_cluster.sh -- start a private, single-node Slurm cluster (munged +
# slurmctld + slurmd) for rankflow's `slurm` CTest label.
#
# Why: rankflow's Slurm batch scripts must be tested against a real
# sbatch/srun/scontrol/scancel (requeue, signals, exit codes), not a mock.
# CTest runs this as the FIXTURES_SETUP of the `slurm_cluster` fixture and
# stop_cluster.sh as its FIXTURES_CLEANUP. Everything (config, state, spool,
# logs, PIDs) lives in one state directory, on non-stock ports, so a system
# Slurm on this machine is neither used nor disturbed, and nothing in /etc/slurm
# is touched. Tests talk to the cluster after `source "$RF_SLURM_DIR/env.sh"`.
#
# Must run as root (slurmd has to launch jobs as any user; jobs run as root).
# Needs Debian's slurmctld slurmd slurm-client munge libpmix-dev openmpi-bin.
#
# Environment (all optional):
#   RF_SLURM_DIR           state directory            [$PWD/slurm-cluster]
#   RF_SLURM_CTLD_PORT     slurmctld TCP port         [16817]
#   RF_SLURM_SLURMD_PORT   slurmd TCP port            [16818]
#   RF_SLURM_CPUS          CPUs declared for the node [real count, slurmd -C]
#   RF_SLURM_READY_TIMEOUT seconds to wait for the node to be idle [60]
# A cluster left running in the same RF_SLURM_DIR (e.g. an interrupted ctest)
# is stopped first. On any failure, whatever this script started is stopped.
# SPDX-License-Identifier: BSD-3-Clause
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PATH=$PATH:/usr/sbin:/sbin
DIR=${RF_SLURM_DIR:-$PWD/slurm-cluster}
CTLD_PORT=${RF_SLURM_CTLD_PORT:-16817}
SLURMD_PORT=${RF_SLURM_SLURMD_PORT:-16818}
READY_TIMEOUT=${RF_SLURM_READY_TIMEOUT:-60}
KILL_WAIT=30
PARTITION=debug

log() { echo "[start_cluster $(date +%T)] $*"; }
die() { echo "start_cluster.sh: $*" >&2; exit 1; }
now() { date +%s.%N; }
T0=$(now)

[ "$(id -u)" = 0 ] || die "must run as root (slurmd launches the test jobs as root)"
for c in slurmctld slurmd sbatch sinfo scontrol squeue munged munge unmunge; do
  command -v "$c" >/dev/null ||
    die "'$c' not found: install slurmctld slurmd slurm-client munge (scripts/setup.sh)"
done
for v in CTLD_PORT SLURMD_PORT; do
  if ! [[ ${!v} =~ ^[0-9]+$ ]] || [ "${!v}" -lt 1 ] || [ "${!v}" -gt 65535 ]; then
    die "RF_SLURM_$v='${!v}' is not a TCP port number"
  fi
done
[ "$CTLD_PORT" != "$SLURMD_PORT" ] ||
  die "RF_SLURM_CTLD_PORT and RF_SLURM_SLURMD_PORT are both $CTLD_PORT; they must differ"

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
CONF=$DIR/slurm.conf
PIDS=$DIR/pids
export SLURM_CONF=$CONF RF_SLURM_DIR=$DIR

# ------------------------------------------------ 0. leftovers of an earlier run
if [ -s "$PIDS" ]; then
  log "a cluster was left running in $DIR: stopping it first"
  "$HERE/stop_cluster.sh"
fi

# ------------------------------------------------ 1. ports must be free
port_in_use() {  # LISTEN socket on any address (ss), or anything answering on loopback
  if command -v ss >/dev/null && ss -Hltn "( sport = :$1 )" 2>/dev/null | grep -q .; then
    return 0
  fi
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}
port_in_use "$CTLD_PORT" &&
  die "port $CTLD_PORT (slurmctld) is already in use: set RF_SLURM_CTLD_PORT to a free port"
port_in_use "$SLURMD_PORT" &&
  die "port $SLURMD_PORT (slurmd) is already in use: set RF_SLURM_SLURMD_PORT to a free port"

# From here on, a failure stops whatever was started.
started=0
on_exit() {
  local rc=$?
  if [ "$rc" != 0 ] && [ "$started" = 1 ]; then
    echo "start_cluster.sh: failed, last log lines:" >&2
    tail -n 20 "$DIR"/log/slurmctld.log "$DIR"/log/slurmd.log 2>/dev/null >&2 || true
    "$HERE/stop_cluster.sh" >&2 || true
  fi
}
trap on_exit EXIT

# Fresh state each start: jobs of a previous run must not come back.
rm -rf "$DIR/state" "$DIR/log" "$DIR/spool" "$DIR/env.sh" "$PIDS" "$DIR/munged.ours" \
  "$DIR/slurmctld.pid" "$DIR/slurmd.pid"
# slurmd/PMIx put UNIX sockets in the spool dir (sun_path <= 107 bytes):
# a deep build tree gets a short spool dir under /tmp instead.
SPOOL=$DIR/spool
if [ ${#SPOOL} -gt 60 ]; then
  SPOOL=/tmp/rf-slurm-spool-$(printf %s "$DIR" | md5sum | cut -c1-12)
  rm -rf "$SPOOL"
fi
mkdir -p "$DIR/state" "$DIR/log" "$SPOOL"
[ "$SPOOL" = "$DIR/spool" ] || ln -sfn "$SPOOL" "$DIR/spool"
: > "$PIDS"

# ------------------------------------------------ 2. munge
munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }
if munge_ok; then
  log "munged already running: using it, stop_cluster.sh will leave it alone"
else
  if [ ! -s /etc/munge/munge.key ]; then
    log "creating /etc/munge/munge.key"
    install -d -o munge -g munge -m 0700 /etc/munge
    if command -v mungekey >/dev/null; then
      mungekey --create --keyfile=/etc/munge/munge.key
    else
      dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
    fi
  fi
  chown munge:munge /etc/munge /etc/munge/munge.key
  chmod 0700 /etc/munge
  chmod 0400 /etc/munge/munge.key
  install -d -o munge -g munge -m 0755 /run/munge
  install -d -o munge -g munge -m 0700 /var/log/munge
  install -d -o munge -g munge -m 0711 /var/lib/munge
  log "starting munged"
  started=1
  runuser -u munge -- munged </dev/null >/dev/null 2>&1 ||
    die "munged did not start: $(tail -n 3 /var/log/munge/munged.log 2>/dev/null | tr '\n' ' ')"
  touch "$DIR/munged.ours"   # stop_cluster.sh stops munged only if this exists
  for _ in $(seq 50); do [ -s /run/munge/munged.pid ] && break; sleep 0.2; done
  echo "munged $(cat /run/munge/munged.pid 2>/dev/null)" >> "$PIDS"
  for _ in $(seq 50); do munge_ok && break; sleep 0.2; done
  munge_ok ||
    die "munged does not answer: $(tail -n 3 /var/log/munge/munged.log 2>/dev/null | tr '\n' ' ')"
fi

# ------------------------------------------------ 3. configuration
NODE=$(hostname -s)
# Real hardware as slurmd sees it, e.g.
# "NodeName=vm CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=24105"
HW=$(slurmd -C 2>/dev/null | head -n 1 || true)
hw() { sed -n "s/.*[[:space:]]$1=\([0-9]*\).*/\1/p" <<< "$HW"; }
CPUS=$(hw CPUs); MEM=$(hw RealMemory)
[ -n "$CPUS" ] || CPUS=$(nproc)
[ -n "$MEM" ] || MEM=$(awk '/MemTotal/{print int($2/1024)}' /proc/meminfo)
if [ -n "${RF_SLURM_CPUS:-}" ]; then
  CPUS=$RF_SLURM_CPUS
  TOPO="CPUs=$CPUS"
elif [ -n "$(hw CoresPerSocket)" ]; then
  TOPO="CPUs=$CPUS Boards=$(hw Boards) SocketsPerBoard=$(hw SocketsPerBoard)"
  TOPO+=" CoresPerSocket=$(hw CoresPerSocket) ThreadsPerCore=$(hw ThreadsPerCore)"
else
  TOPO="CPUs=$CPUS"
fi

cat > "$CONF" <<EOF
# Generated by tests/slurm/start_cluster.sh: private single-node test cluster.
ClusterName=rankflow-test
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
# We are root and the tests submit jobs as root.
SlurmUser=root
SlurmdUser=root
DisableRootJobs=NO
AuthType=auth/munge
CredType=cred/munge
# The job credential lifetime is also how long a requeued job waits before it
# may start again (default 120 s): keep requeue tests fast.
AuthInfo=cred_expire=10
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$SPOOL
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No systemd, no cgroups (containers): track job processes by /proc.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
# No slurmdbd: completed jobs go to a text file that \`sacct -c\` reads.
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/log/jobcomp.txt
SwitchType=switch/none
# srun --mpi=pmix by default (Debian's Open MPI 4.1 has no PMI-1/PMI-2 support).
MpiDefault=pmix
# Batch jobs may be requeued (scontrol requeue, node failure) by default.
JobRequeue=1
# scancel / time limit: SIGTERM (and SIGCONT), then SIGKILL after KillWait s.
KillWait=$KILL_WAIT
# Finished jobs stay visible to scontrol/squeue -t all for 10 minutes.
MinJobAge=600
InactiveLimit=0
Waittime=0
SlurmdTimeout=60
SlurmctldTimeout=60
ReturnToService=2
# Reject (instead of leaving PENDING forever) jobs that can never fit.
EnforcePartLimits=ALL
# Short scheduler periods so a test job starts at once: batch_sched_delay=0
# (default 3 s after sbatch); a requeued job becomes eligible cred_expire s
# later and only a periodic pass starts it (sched_interval, default 60 s).
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_interval=2,bf_interval=5
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
# Do not drain the node if RF_SLURM_CPUS declares more CPUs than there are.
SlurmdParameters=config_overrides
MailProg=/bin/true
NodeName=$NODE NodeAddr=127.0.0.1 NodeHostname=$NODE $TOPO RealMemory=$MEM State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF

# Read only if a cgroup plugin were configured; pins the choice anyway so a
# host-wide /etc/slurm/cgroup.conf is never picked up.
cat > "$DIR/cgroup.conf" <<EOF
# Generated by tests/slurm/start_cluster.sh. Cgroups are not used
# (ProctrackType=proctrack/linuxproc, TaskPlugin=task/none).
CgroupAutomount=no
ConstrainCores=no
ConstrainRAMSpace=no
ConstrainDevices=no
EOF
# Empty plugin stack: keep /etc/slurm/plugstack.conf.d SPANK plugins out.
: > "$DIR/plugstack.conf"

cat > "$DIR/env.sh" <<EOF
# Generated by tests/slurm/start_cluster.sh: source this to use the test cluster
# with sbatch/srun/squeue/scontrol/scancel/sinfo/sacct -c.
export SLURM_CONF=$CONF
export RF_SLURM_DIR=$DIR
export RF_SLURM_NODE=$NODE
export RF_SLURM_PARTITION=$PARTITION
export RF_SLURM_CPUS=$CPUS
export RF_SLURM_KILLWAIT=$KILL_WAIT
export RF_SLURM_JOBCOMP=$DIR/log/jobcomp.txt
EOF

# ------------------------------------------------ 4. daemons
wait_pidfile() {  # $1 = file, $2 = name: the daemon forked and wrote its PID
  for _ in $(seq 50); do
    if [ -s "$1" ] && [ "$(cat "/proc/$(cat "$1")/comm" 2>/dev/null)" = "$2" ]; then
      echo "$2 $(cat "$1")" >> "$PIDS"
      return 0
    fi
    sleep 0.2
  done
  die "$2 did not start (see $DIR/log/$2.log)"
}
T1=$(now)
log "starting slurmctld on port $CTLD_PORT"
started=1
slurmctld -c -f "$CONF" </dev/null >>"$DIR/log/slurmctld.out" 2>&1 ||
  die "slurmctld failed: $(tail -n 3 "$DIR/log/slurmctld.out" "$DIR/log/slurmctld.log" 2>/dev/null | tr '\n' ' ')"
wait_pidfile "$DIR/slurmctld.pid" slurmctld
up=0
for _ in $(seq 100); do
  if scontrol ping 2>/dev/null | grep -q 'is UP'; then up=1; break; fi
  sleep 0.2
done
[ "$up" = 1 ] || die "slurmctld does not answer on port $CTLD_PORT"

log "starting slurmd for node $NODE ($TOPO RealMemory=$MEM) on port $SLURMD_PORT"
slurmd -N "$NODE" -f "$CONF" </dev/null >>"$DIR/log/slurmd.out" 2>&1 ||
  die "slurmd failed: $(tail -n 3 "$DIR/log/slurmd.out" "$DIR/log/slurmd.log" 2>/dev/null | tr '\n' ' ')"
wait_pidfile "$DIR/slurmd.pid" slurmd

state=""
deadline=$((SECONDS + READY_TIMEOUT))
while [ "$SECONDS" -lt "$deadline" ]; do
  state=$(sinfo -h -N -n "$NODE" -o '%T' 2>/dev/null || true)
  case "$state" in
    idle) break ;;
    down*|drain*) scontrol update NodeName="$NODE" State=RESUME 2>/dev/null || true ;;
  esac
  sleep 0.5
done
[ "$state" = idle ] || die "node $NODE not idle after ${READY_TIMEOUT}s (state '$state')"

T2=$(now)
sinfo
awk -v a="$T0" -v b="$T1" -v c="$T2" \
  'BEGIN{printf "[start_cluster] node idle after %.1fs (daemons %.1fs)\n", c-a, c-b}'
echo "source $DIR/env.sh   # or: export SLURM_CONF=$CONF"
