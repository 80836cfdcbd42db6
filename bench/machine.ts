/** What the figures were measured on, recorded with them. */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import os from "node:os";

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  postgres: string;
  os: string;
}

export function describeMachine(postgresVersion: string): Machine {
  return {
    cpu: cpuModel(),
    cores: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    postgres: postgresVersion,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

function cpuModel(): string {
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8")
      .split("\n")
      .find((l) => /^model name\s*:/.test(l));
    if (line) return line.replace(/^model name\s*:\s*/, "").trim();
  } catch {
    // not Linux: fall through
  }
  return os.cpus()[0]?.model ?? "unknown";
}

/** Resident set size of a process in KiB (Linux: VmRSS in /proc/<pid>/status), null when unknown. */
export function rssKiB(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`; 100 on Linux when that cannot be asked). */
const CLOCK_TICKS = (() => {
  try {
    const ticks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8", stdio: "pipe" }).trim());
    return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU time of one process, all its threads, in ms (Linux /proc/<pid>/stat); null when unknown. */
function processCpuMs(pid: string | number): { comm: string; ms: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { comm, ms: ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS };
  } catch {
    return null;
  }
}

/**
 * CPU used so far by a server process and by every local PostgreSQL process (by pid: backends
 * and background workers come and go). Two samples give what a window cost each; PostgreSQL's is
 * null when no local PostgreSQL process is visible (a server elsewhere).
 */
export interface CpuSample {
  serverMs: number | null;
  postgres: Map<string, number>;
}

export function sampleCpu(serverPid: number): CpuSample {
  const postgres = new Map<string, number>();
  try {
    for (const pid of readdirSync("/proc")) {
      if (!/^\d+$/.test(pid)) continue;
      const cpu = processCpuMs(pid);
      if (cpu?.comm.startsWith("postgres")) postgres.set(pid, cpu.ms);
    }
  } catch {
    // not Linux: no figures
  }
  return { serverMs: processCpuMs(serverPid)?.ms ?? null, postgres };
}

/** CPU ms between two samples: the server's, and all PostgreSQL processes' (a process new since `before` counts from 0). */
export function cpuBetween(
  before: CpuSample,
  after: CpuSample,
): { serverMs: number | null; postgresMs: number | null } {
  let postgresMs = 0;
  for (const [pid, ms] of after.postgres) postgresMs += ms - (before.postgres.get(pid) ?? 0);
  return {
    serverMs: before.serverMs === null || after.serverMs === null ? null : after.serverMs - before.serverMs,
    postgresMs: after.postgres.size === 0 ? null : postgresMs,
  };
}

/** The commit measured, and whether src/ had uncommitted changes (read-only git calls). */
export function describeRevision(cwd: string): { commit: string | null; srcDirty: boolean | null } {
  const git = (...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8", stdio: "pipe" }).trim();
  try {
    return { commit: git("rev-parse", "HEAD"), srcDirty: git("status", "--porcelain", "--", "src").length > 0 };
  } catch {
    return { commit: null, srcDirty: null };
  }
}
