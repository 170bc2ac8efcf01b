/**
 * Go's path.Clean for a rooted path: `.` and empty segments dropped, `..` eats its parent, no
 * trailing slash. ServeMux's cleanPath and http.FileServer's name both start from it.
 */
export function cleanRooted(path: string): string {
  const kept: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') kept.pop();
    else kept.push(segment);
  }
  return `/${kept.join('/')}`;
}
