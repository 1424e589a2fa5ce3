// Package policy models the RAM policy language that Alibaba Cloud STS accepts
// as a session policy, builds the smallest read-only policy a mount needs, and
// evaluates documents against requests.
//
// Three users share it: creds attaches ReadOnlyJSON's output to AssumeRole,
// the emulator enforces role policy ∩ session policy with Allows, and
// cmd/ossmount prints the generated policy (`ossmount policy`) and checks a
// user-supplied --policy-file with Parse and CheckMountNeeds.
//
// Evaluation follows the documented RAM rules (reference 9.3): an explicit
// Deny in a matching statement wins, otherwise the request needs a matching
// Allow, otherwise it is denied. Action patterns match case-insensitively,
// Resource patterns and condition values case-sensitively (except
// StringEqualsIgnoreCase); `*` matches any run of characters including `/`
// and the empty string, `?` exactly one character. A condition on a key that
// the request's Context does not carry is never satisfied, for every
// operator, including the negated ones: a policy that constrains oss:Prefix
// does not let a listing without a prefix through.
//
// Non-goals: numeric, date, Boolean and IP condition operators, NotAction,
// NotResource and Principal (Parse rejects them rather than silently
// ignoring them, because ignoring a narrowing clause would make the evaluator
// more permissive than STS).
//
// Concurrency: Documents are plain values; every function is pure and safe
// for concurrent use as long as callers do not mutate a Document they share.
//
// Errors: Parse and ReadOnlyJSON return errors prefixed "policy: " that say
// what is wrong and where (statement index, field), in the spirit of STS's
// InvalidParameter.PolicyGrammar.
//
// The package imports only the standard library.
package policy
