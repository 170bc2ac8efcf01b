/**
 * The user an image's config runs as, as CRI ImageStatus reports it (upstream getImageUser): a
 * numeric uid, or else a user name; neither set means root (uid 0).
 */
export interface ImageUser {
  uid?: number;
  username?: string;
}
