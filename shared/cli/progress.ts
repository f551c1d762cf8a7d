/** One self-overwriting progress line on a terminal; plain lines (throttled) when output is a file or pipe. */
export function progressLine(
  stream: NodeJS.WriteStream,
): ((text: string) => void) & { done(text: string): void } {
  let last = 0;
  const update = (text: string) => {
    const now = Date.now();
    if (stream.isTTY) {
      stream.write(`\r\x1b[2K${text}`);
    } else if (now - last > 1000) {
      stream.write(`${text}\n`);
      last = now;
    }
  };
  return Object.assign(update, {
    done(text: string) {
      stream.write(stream.isTTY ? `\r\x1b[2K${text}\n` : `${text}\n`);
    },
  });
}
