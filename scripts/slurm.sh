#!/usr/bin/env bash
# A one-node SLURM for the tests: Debian's slurmctld, slurmd and munge, partition `debug`.
#
#   scripts/slurm.sh start [--lease PID]   install (root with apt-get) if missing, start, wait idle
#   scripts/slurm.sh stop [--lease PID]    cancel the jobs, stop the daemons by pid
#   scripts/slurm.sh status                what runs; exit 0 when SLURM answers
#   scripts/slurm.sh env                   `export SLURM_CONF=...` for sbatch/squeue by hand
#
# Exit codes of start: 0 running, 2 skipped (not root, or neither SLURM nor apt-get; the reason
# is printed), 1 failed. Everything (config, munge key and socket, state, logs, pid files)
# lives in $CLUSTERCRAFT_SLURM_DIR (default /tmp/clustercraft-slurm); nothing in /etc is
# written, so clients need SLURM_CONF=$CLUSTERCRAFT_SLURM_DIR/slurm.conf. The ports are not
# SLURM's defaults (6817/6818), so a system SLURM on the same machine is left alone.
#
# Leases: `start --lease PID` records that process PID uses SLURM; `stop --lease PID` drops
# that lease and stops SLURM only when no live lease is left. A start without --lease (by
# hand), or finding SLURM running with no lease, leaves a lease `manual` that only a plain
# `stop` drops. Several `make test` runs on one machine thus share one SLURM, the last one
# out stops it, and one started by hand keeps running.
set -euo pipefail

DIR=${CLUSTERCRAFT_SLURM_DIR:-/tmp/clustercraft-slurm}
CONF=$DIR/slurm.conf
PARTITION=debug
CTLD_PORT=${CLUSTERCRAFT_SLURMCTLD_PORT:-6917}
SLURMD_PORT=${CLUSTERCRAFT_SLURMD_PORT:-6918}
PACKAGES=(slurmctld slurmd slurm-client munge)
export SLURM_CONF=$CONF
export PATH=$PATH:/usr/sbin:/sbin

say() { echo "slurm: $*"; }

pidfile() { # daemon name -> its pid file (munged, running as munge, writes in its own dir)
	if [[ $1 == munged ]]; then echo "$DIR/munge/munged.pid"; else echo "$DIR/$1.pid"; fi
}

alive() { # daemon name -> 0 when it runs
	local file
	file=$(pidfile "$1")
	[[ -s $file ]] && kill -0 "$(cat "$file")" 2> /dev/null
}

running() {
	alive munged && alive slurmctld && alive slurmd && scontrol ping 2> /dev/null | grep -q UP
}

installed() {
	command -v slurmctld > /dev/null && command -v slurmd > /dev/null \
		&& command -v sbatch > /dev/null && command -v munged > /dev/null
}

# Why this machine cannot run it (empty: it can).
cannot() {
	if [[ $(id -u) != 0 ]]; then
		echo "not root (slurmd must run as root)"
	elif ! installed && ! command -v apt-get > /dev/null; then
		echo "SLURM is not installed and there is no apt-get to install ${PACKAGES[*]}"
	fi
}

install() {
	installed && return 0
	say "installing Debian's ${PACKAGES[*]}"
	local t0=$SECONDS policy=/usr/sbin/policy-rc.d made_policy= status=0
	# Package scripts must not start system services (munged, slurmd) that nobody stops.
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && made_policy=1
	fi
	local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -y -qq)
	{ "${apt[@]}" install --no-install-recommends "${PACKAGES[@]}" > /dev/null 2>&1 \
		|| { "${apt[@]}" update > /dev/null && "${apt[@]}" install --no-install-recommends \
			"${PACKAGES[@]}" > /dev/null; }; } || status=$?
	[[ -n $made_policy ]] && rm -f "$policy"
	[[ $status == 0 ]] || { say "apt-get install failed"; return 1; }
	say "installed in $((SECONDS - t0)) s"
}

write_conf() { # to stdout
	local node mem cpus
	node=$(hostname -s)
	# `slurmd -C` prints this machine's real CPUs and memory as slurm.conf wants them.
	local hw
	hw=$(slurmd -C 2> /dev/null | head -n 1)
	cpus=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<< "$hw")
	mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<< "$hw")
	cat << EOF
# Written by clustercraft's scripts/slurm.sh; regenerated on every start.
ClusterName=clustercraft
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munge.socket
StateSaveLocation=$DIR/ctld
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups in this VM.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SwitchType=switch/none
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
SchedulerType=sched/backfill
# CR_Memory alone is fatal with cons_tres; without DefMemPerCPU a job takes the whole node.
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
NodeName=$node NodeAddr=127.0.0.1 CPUs=${cpus:-$(nproc)} RealMemory=${mem:-1024} State=UNKNOWN
# FORCE:4: up to 4 jobs per core, so more 1-core jobs than cores run at once.
PartitionName=$PARTITION Nodes=$node Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
EOF
}

wait_gone() { # pid, seconds
	local deadline=$((SECONDS + $2))
	while kill -0 "$1" 2> /dev/null; do
		((SECONDS < deadline)) || return 1
		sleep 0.1
	done
}

stop_daemons() { # names: SIGTERM to all at once (each takes ~2 s to exit), then wait
	local name file pid pids=()
	for name in "$@"; do
		if alive "$name"; then
			pid=$(cat "$(pidfile "$name")")
			kill "$pid" 2> /dev/null || true
			pids+=("$name:$pid")
		fi
	done
	for name in "${pids[@]}"; do
		pid=${name#*:}
		wait_gone "$pid" 20 || { say "${name%:*} ($pid) ignored SIGTERM; SIGKILL"; kill -9 "$pid" 2> /dev/null || true; }
	done
	for name in "$@"; do rm -f "$(pidfile "$name")"; done # slurmctld leaves its pid file behind
}

stop_all() {
	if alive slurmctld; then
		# Jobs outlive slurmd (their slurmstepd is its own process): cancel them first.
		scancel --partition "$PARTITION" 2> /dev/null || true
		local deadline=$((SECONDS + 20))
		while [[ -n $(squeue -h -o %i 2> /dev/null) ]] && ((SECONDS < deadline)); do sleep 0.2; done
		[[ -z $(squeue -h -o %i 2> /dev/null) ]] || say "warning: jobs still listed: $(squeue -h -o '%i %T' | tr '\n' ' ')"
	fi
	stop_daemons slurmd slurmctld munged
}

start_munge() {
	alive munged && return 0
	mkdir -p "$DIR/munge"
	chown munge: "$DIR/munge"
	chmod 0755 "$DIR/munge"
	if [[ ! -s $DIR/munge/munge.key ]]; then
		mungekey -c -k "$DIR/munge/munge.key" > /dev/null
	fi
	chown munge: "$DIR/munge/munge.key"
	chmod 0600 "$DIR/munge/munge.key"
	rm -f "$DIR/munge/munge.socket" "$DIR/munge/munge.socket.lock"
	runuser -u munge -- munged --key-file="$DIR/munge/munge.key" \
		--socket="$DIR/munge/munge.socket" --pid-file="$DIR/munge/munged.pid" \
		--log-file="$DIR/munge/munged.log" --seed-file="$DIR/munge/munged.seed"
}

node_state() {
	sinfo -h -p "$PARTITION" -o %T 2> /dev/null | head -n 1
}

start_all() {
	mkdir -p "$DIR/ctld" "$DIR/spool"
	chmod 0755 "$DIR"
	start_munge
	# -c: no jobs recovered from an earlier run (their processes are gone).
	slurmctld -c -f "$CONF"
	slurmd -f "$CONF" -N "$(hostname -s)"
	local deadline=$((SECONDS + 60)) state=
	while ((SECONDS < deadline)); do
		state=$(node_state)
		case $state in
			idle* | mixed* | allocated*) return 0 ;;
			down* | drain*) scontrol update nodename="$(hostname -s)" state=resume 2> /dev/null || true ;;
		esac
		sleep 0.2
	done
	say "node not idle after 60 s (state: ${state:-none}); logs in $DIR"
	tail -n 5 "$DIR/slurmctld.log" "$DIR/slurmd.log" 2> /dev/null || true
	return 1
}

live_leases() { # prints the leases whose process runs, deletes the others
	[[ -d $DIR/leases ]] || return 0
	local file pid
	for file in "$DIR"/leases/*; do
		[[ -e $file ]] || continue
		pid=${file##*/}
		if [[ $pid == manual ]] || kill -0 "$pid" 2> /dev/null; then echo "$pid"; else rm -f "$file"; fi
	done
}

cmd_start() {
	local lease=${1:-} why
	why=$(cannot)
	if [[ -n $why ]]; then
		say "skipped: $why"
		return 2
	fi
	install
	local t0=$SECONDS new
	new=$(write_conf)
	if running && [[ $new == "$(cat "$CONF" 2> /dev/null)" ]]; then
		# Up and nobody holds a lease: it was started by hand, and stays up after us.
		[[ -n $(live_leases) ]] || { mkdir -p "$DIR/leases" && touch "$DIR/leases/manual"; }
		say "already running (SLURM_CONF=$CONF)"
	else
		stop_all # stale pid files, or a different slurm.conf: both daemons restart
		mkdir -p "$DIR"
		printf '%s\n' "$new" > "$CONF"
		start_all
		say "started in $((SECONDS - t0)) s: partition $PARTITION on $(hostname -s), SLURM_CONF=$CONF"
	fi
	mkdir -p "$DIR/leases"
	touch "$DIR/leases/${lease:-manual}" # started by hand: only a lease-less stop stops it
}

cmd_stop() {
	local lease=${1:-}
	if [[ -n $lease ]]; then
		rm -f "$DIR/leases/$lease"
		if [[ -n $(live_leases) ]]; then
			say "left running: still in use ($(live_leases | tr '\n' ' '))"
			return 0
		fi
	fi
	stop_all
	rm -rf "$DIR/leases"
	say "stopped"
}

cmd_status() {
	if ! installed; then
		say "not installed"
		return 1
	fi
	if running; then
		local name
		for name in munged slurmctld slurmd; do echo "$name pid $(cat "$(pidfile $name)")"; done
		sinfo -p "$PARTITION"
		squeue
		echo "SLURM_CONF=$CONF"
		return 0
	fi
	say "not running"
	return 1
}

lease_arg() { # --lease PID -> PID
	if [[ ${1:-} == --lease && -n ${2:-} ]]; then echo "$2"; elif [[ -n ${1:-} ]]; then
		echo "usage: $0 start|stop [--lease PID]" >&2
		exit 64
	fi
}

case ${1:-} in
	start) cmd_start "$(lease_arg "${@:2}")" ;;
	stop) cmd_stop "$(lease_arg "${@:2}")" ;;
	status) cmd_status ;;
	env) echo "export SLURM_CONF=$CONF" ;;
	*)
		sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
		exit 64
		;;
esac
