import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { messageOf } from '../../errors.ts';

const run = promisify(execFile);

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The headless Chromium to print with: $CHANGEPROOF_CHROMIUM, else the usual install paths. */
export function findChromium(): string | undefined {
  const configured = process.env.CHANGEPROOF_CHROMIUM;
  if (configured !== undefined)
    return configured && existsSync(configured) ? configured : undefined;
  return CANDIDATES.find((path) => existsSync(path));
}

/**
 * Prints the HTML report to PDF with headless Chromium, offline (no network, no sandbox needed
 * for a local file). Returns the PDF, or why it was skipped: a missing PDF never fails an export.
 */
export async function printPdf(html: string): Promise<{ pdf?: Buffer; note?: string }> {
  const chromium = findChromium();
  if (!chromium)
    return { note: 'PDF skipped: Chromium is not installed (apt-get install -y chromium)' };
  const dir = mkdtempSync(join(tmpdir(), 'changeproof-pdf-'));
  try {
    const page = join(dir, 'index.html');
    const out = join(dir, 'report.pdf');
    writeFileSync(page, html);
    await run(
      chromium,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--no-pdf-header-footer',
        `--user-data-dir=${join(dir, 'profile')}`,
        `--print-to-pdf=${out}`,
        pathToFileURL(page).href,
      ],
      { timeout: 90_000 },
    );
    if (!existsSync(out)) return { note: 'PDF skipped: Chromium printed nothing' };
    return { pdf: readFileSync(out) };
  } catch (error) {
    return { note: `PDF skipped: Chromium failed (${messageOf(error).split('\n')[0]})` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
