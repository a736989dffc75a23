import { execFile } from 'node:child_process';
import { ChangeproofError } from '../errors.ts';

export class GitError extends ChangeproofError<'GIT_FAILED'> {}

export interface GitOptions {
  cwd: string;
  env?: Record<string, string>;
  input?: string;
}

/**
 * Runs real git with a clean configuration: no system or user config leaks in, so results do not
 * depend on the machine (signing, hooks, default branch).
 */
export function git(args: string[], options: GitOptions): Promise<string> {
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: options.cwd,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    LC_ALL: 'C',
    ...options.env,
  };
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      args,
      { cwd: options.cwd, env, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const detail = (stderr || error.message).trim().split('\n').pop();
          reject(
            new GitError('GIT_FAILED', `git ${args[0]} failed: ${detail}`, {
              category: 'internal',
              cause: error,
            }),
          );
        } else {
          resolve(stdout);
        }
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** `-c` options that give a commit an author without touching any config file. */
export function identityArgs(name: string, email: string): string[] {
  return ['-c', `user.name=${name}`, '-c', `user.email=${email}`];
}
