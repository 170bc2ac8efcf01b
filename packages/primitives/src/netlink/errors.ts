import { errorPredicate, FieldError } from '../errors';

/**
 * Bytes that do not parse as netlink (an attribute or message whose length overruns the buffer,
 * a payload too short for its type), or a value that cannot be written as netlink (an attribute
 * longer than nla_len can say). `field` says where, `value` what was found.
 */
export class NetlinkFormatError extends FieldError {
  constructor(field: string, value: unknown, reason: string) {
    super('NETLINK_FORMAT', field, value, reason);
  }
}

/**
 * The error a package wants the shared netlink code to throw, built from (field, value, reason):
 * netfilter passes its InvalidFieldError so its callers keep catching one class. The default
 * everywhere is NetlinkFormatError.
 */
export type NetlinkErrorClass = new (field: string, value: unknown, reason: string) => Error;

/** Whether an error is a NetlinkFormatError, from either build. */
export const isNetlinkFormatError = errorPredicate(NetlinkFormatError);
