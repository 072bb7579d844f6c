#!/bin/sh
# The writer workload of respaldo's test guest (busybox sh): workload.sh [DIR]   (DIR=/data)
#
# Writes numbered records, DIR/records/<n>.rec (a header line and 4000 random bytes), one after
# another. For each record, in this order:
#   1. the record file is written and fsynced (with its directory);
#   2. "<n> <sha256 of the record file>" is appended to DIR/manifest, which is then fsynced.
# So in any crash-consistent or frozen copy of the disk, every complete line of the manifest
# names a record file that is intact and matches its checksum (only a last line without its
# newline may be torn). After a restore the numbering goes on after the manifest's last line.
# Progress goes to the console every 100 records. Stops writing when a write fails (disk full).

dir=${1:-/data}
records=$dir/records
manifest=$dir/manifest
mkdir -p "$records" || exit 1

# A torn last line (power cut while appending): keep only the complete lines.
if [ -s "$manifest" ] && [ "$(tail -c 1 "$manifest" | od -An -c | tr -d ' ')" != '\n' ]; then
    grep -E '^[0-9]+ [0-9a-f]{64}$' "$manifest" > "$manifest.new"
    mv "$manifest.new" "$manifest"
    sync "$manifest" "$dir"
fi

n=1
if [ -s "$manifest" ]; then
    last=$(tail -n 1 "$manifest" | cut -d' ' -f1)
    case "$last" in
        '' | *[!0-9]*) ;;
        *) n=$((last + 1)) ;;
    esac
fi
echo "respaldo-workload: writing records from $n in $dir"

while :; do
    record=$records/$n.rec
    {
        echo "respaldo record $n $(date +%s)"
        head -c 4000 /dev/urandom
    } > "$record" || break
    sync "$record" "$records" || break
    sum=$(sha256sum "$record") || break
    echo "$n ${sum%% *}" >> "$manifest" || break
    sync "$manifest" || break
    if [ $((n % 100)) -eq 0 ]; then
        echo "respaldo-workload: $n records"
    fi
    n=$((n + 1))
    sleep 0.05
done
echo "respaldo-workload: stopped at record $n: a write failed (disk full?)"
