#!/usr/bin/env bash
# A local Spark standalone cluster (one Master, one Worker) built from the project's own Maven
# dependencies, to run the application jar the way a real cluster does: executors in their own JVMs,
# launched by the Worker, fetching the -spark.jar from the driver.
#
#   scripts/cluster.sh start     # starts Master + Worker, prints the master URL
#   PATH="$PWD/jobs/target/spark-home/bin:$PATH" MASTER=spark://127.0.0.1:7077 \
#     EXECUTOR_CORES=1 EXECUTOR_MEMORY=2g DRIVER_MEMORY=2g scripts/submit.sh --model M --data D --out O
#   scripts/cluster.sh status    # Master and Worker pids, the master URL, alive workers
#   scripts/cluster.sh stop      # stops the Worker (and its executors), then the Master
#
# There is no Spark download: `mvn install` assembles jobs/target/spark-home/jars (Spark and its
# dependencies, as the application jar expects them from the cluster; see jobs/pom.xml). Spark's
# launcher builds the Master, Worker and executor classpaths from SPARK_HOME/jars; the Worker starts
# executors as `$JAVA_HOME/bin/java -cp SPARK_HOME/conf/:SPARK_HOME/jars/* ... CoarseGrainedExecutorBackend`
# (it needs no bin/ scripts, but it needs SPARK_SCALA_VERSION in its environment, set here). `start`
# also writes SPARK_HOME/bin/spark-submit, a small spark-class equivalent, for scripts/submit.sh.
#
# Settings (environment variables, with defaults):
#   SPARK_HOME          jobs/target/spark-home (built by `mvn -B -q install -DskipTests` if missing)
#   CLUSTER_DIR         target/local-cluster: pids, logs/, work/ (executor folders and their logs), local/
#   MASTER_HOST         127.0.0.1 (also SPARK_LOCAL_IP of both daemons)
#   MASTER_PORT         7077
#   MASTER_WEBUI_PORT   8080      (JSON state at http://MASTER_HOST:MASTER_WEBUI_PORT/json/)
#   WORKER_WEBUI_PORT   8081
#   WORKER_CORES        all cores (nproc)
#   WORKER_MEMORY       memory the Worker offers to executor heaps (8g); off-heap (ND4J) is not counted
#   DAEMON_MEMORY       heap of the Master and Worker JVMs (512m)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/lib/launcher.sh"
SPARK_HOME="${SPARK_HOME:-$ROOT/jobs/target/spark-home}"
CLUSTER_DIR="${CLUSTER_DIR:-$ROOT/target/local-cluster}"
MASTER_HOST="${MASTER_HOST:-127.0.0.1}"
MASTER_PORT="${MASTER_PORT:-7077}"
MASTER_WEBUI_PORT="${MASTER_WEBUI_PORT:-8080}"
WORKER_WEBUI_PORT="${WORKER_WEBUI_PORT:-8081}"
WORKER_CORES="${WORKER_CORES:-$(nproc)}"
WORKER_MEMORY="${WORKER_MEMORY:-8g}"
DAEMON_MEMORY="${DAEMON_MEMORY:-512m}"
MASTER_URL="spark://$MASTER_HOST:$MASTER_PORT"
export SPARK_HOME

# The module opens Spark needs on Java 17 (from scripts/lib/launcher.sh), for the Master and the Worker;
# the executors' launch command gets them from the driver's Spark (see an executor's stderr under work/).
OPENS=("${ATLAS_JAVA17_OPENS[@]}")

java_bin() {
  if [[ -n "${JAVA_HOME:-}" ]]; then echo "$JAVA_HOME/bin/java"; else command -v java; fi
}

ensure_spark_home() {
  if ! compgen -G "$SPARK_HOME/jars/spark-core_*.jar" >/dev/null; then
    if [[ "$SPARK_HOME" != "$ROOT/jobs/target/spark-home" ]]; then
      echo "cluster.sh: no Spark jars in $SPARK_HOME/jars" >&2
      exit 1
    fi
    echo "cluster.sh: building the project (assembles $SPARK_HOME)..." >&2
    (cd "$ROOT" && mvn -B -q -DskipTests install) >&2
  fi
  write_spark_submit
}

# SPARK_HOME/bin/spark-submit: what a distribution's bin/spark-submit does — Spark's launcher
# (org.apache.spark.launcher.Main) builds the driver's java command (--driver-memory, the driver's
# extraJavaOptions, the Java 17 opens) and prints it NUL-separated; the script runs it.
write_spark_submit() {
  mkdir -p "$SPARK_HOME/bin"
  cat > "$SPARK_HOME/bin/spark-submit" <<'EOF'
#!/usr/bin/env bash
# spark-submit for a jars-only Spark home (written by scripts/cluster.sh).
set -euo pipefail
export SPARK_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export SPARK_SCALA_VERSION="${SPARK_SCALA_VERSION:-2.13}"
export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/java}"; JAVA="${JAVA:-java}"
CMD=() started=0 delim=$'\n'
# The launcher prints error text, then an empty line ("\0\n"), then the command, one NUL-terminated
# argument each; its own exit code comes last.
while IFS= read -r -d "$delim" arg; do
  if (( started )); then
    CMD+=("$arg")
  elif [[ -z "$arg" ]]; then
    started=1 delim=''
  else
    echo "$arg" >&2
  fi
done < <("$JAVA" -Xmx128m -cp "$SPARK_HOME/jars/*" org.apache.spark.launcher.Main org.apache.spark.deploy.SparkSubmit "$@"; printf '%d\0' $?)
(( ${#CMD[@]} > 0 )) || exit 1
rc="${CMD[${#CMD[@]}-1]}"
[[ "$rc" == 0 ]] || exit "$rc"
unset 'CMD[${#CMD[@]}-1]'
exec "${CMD[@]}"
EOF
  chmod +x "$SPARK_HOME/bin/spark-submit"
}

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# start_daemon NAME MAIN_CLASS ARGS...: a JVM in the background, its pid in CLUSTER_DIR/NAME.pid
start_daemon() {
  local name="$1" main="$2"; shift 2
  mkdir -p "$CLUSTER_DIR/logs"
  SPARK_LOCAL_IP="$MASTER_HOST" SPARK_SCALA_VERSION=2.13 SPARK_LOCAL_DIRS="$CLUSTER_DIR/local" \
    nohup "$(java_bin)" -Xmx"$DAEMON_MEMORY" "${OPENS[@]}" -Dspark.master.rest.enabled=false -cp "$SPARK_HOME/conf/:$SPARK_HOME/jars/*" \
    "$main" "$@" > "$CLUSTER_DIR/logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$CLUSTER_DIR/$name.pid"
}

# wait_for NAME PATTERN SECONDS: waits until NAME's log matches PATTERN (fails if the JVM exits)
wait_for() {
  local name="$1" pattern="$2" deadline=$((SECONDS + $3))
  until grep -qE "$pattern" "$CLUSTER_DIR/logs/$name.log" 2>/dev/null; do
    if ! alive "$CLUSTER_DIR/$name.pid"; then
      echo "cluster.sh: the $name exited; its log ($CLUSTER_DIR/logs/$name.log) ends with:" >&2
      tail -20 "$CLUSTER_DIR/logs/$name.log" >&2
      return 1
    fi
    if (( SECONDS >= deadline )); then
      echo "cluster.sh: the $name did not get ready in $3 s (log: $CLUSTER_DIR/logs/$name.log)" >&2
      return 1
    fi
    sleep 0.5
  done
}

stop_daemon() {
  local name="$1" pid_file="$CLUSTER_DIR/$1.pid" pid i
  if alive "$pid_file"; then
    pid="$(cat "$pid_file")"
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 40; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.25
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -9 "$pid" 2>/dev/null || true
    fi
    echo "stopped the $name (pid $pid)"
  fi
  rm -f "$pid_file"
}

print_usage_hint() {
  echo "master: $MASTER_URL"
  echo "web UI: http://$MASTER_HOST:$MASTER_WEBUI_PORT (JSON: /json/)"
  echo "submit: PATH=\"$SPARK_HOME/bin:\$PATH\" MASTER=$MASTER_URL EXECUTOR_CORES=1 EXECUTOR_MEMORY=2g DRIVER_MEMORY=2g scripts/submit.sh --model ... --data ... --out ..."
}

case "${1:-}" in
  start)
    ensure_spark_home
    atlas_openblas_coretype   # the Worker's environment is its executors'
    mkdir -p "$CLUSTER_DIR/work" "$CLUSTER_DIR/local"
    if alive "$CLUSTER_DIR/master.pid" || alive "$CLUSTER_DIR/worker.pid"; then
      echo "cluster.sh: already running (scripts/cluster.sh stop first)" >&2
      print_usage_hint
      exit 0
    fi
    start_daemon master org.apache.spark.deploy.master.Master \
      --host "$MASTER_HOST" --port "$MASTER_PORT" --webui-port "$MASTER_WEBUI_PORT"
    wait_for master "Starting Spark master at" 60 || { stop_daemon master; exit 1; }
    start_daemon worker org.apache.spark.deploy.worker.Worker \
      --host "$MASTER_HOST" --webui-port "$WORKER_WEBUI_PORT" --cores "$WORKER_CORES" --memory "$WORKER_MEMORY" \
      --work-dir "$CLUSTER_DIR/work" "$MASTER_URL"
    wait_for worker "Successfully registered with master" 60 || { stop_daemon worker; stop_daemon master; exit 1; }
    echo "started a Spark standalone cluster: 1 worker, $WORKER_CORES cores, $WORKER_MEMORY for executors (logs: $CLUSTER_DIR/logs)"
    print_usage_hint
    ;;
  stop)
    # the Worker kills its executors when it stops
    stop_daemon worker
    stop_daemon master
    ;;
  status)
    for d in master worker; do
      if alive "$CLUSTER_DIR/$d.pid"; then echo "$d: running (pid $(cat "$CLUSTER_DIR/$d.pid"))"; else echo "$d: stopped"; fi
    done
    if alive "$CLUSTER_DIR/master.pid"; then
      echo "master: $MASTER_URL"
      grep -o 'Registering worker [^ ]* with [0-9]* cores' "$CLUSTER_DIR/logs/master.log" | tail -1 || true
    fi
    ;;
  *)
    echo "usage: scripts/cluster.sh start|stop|status   (settings: see the header of this script)" >&2
    exit 2
    ;;
esac
