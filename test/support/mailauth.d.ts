// mailauth ships no type declarations; the tests use only its DKIM verifier.
declare module 'mailauth/lib/dkim/verify.js' {
  export function dkimVerify(
    input: Buffer | string,
    options: { resolver: (name: string, type: string) => Promise<string[][]> },
  ): Promise<{
    results: Array<{
      signingDomain?: string;
      selector?: string;
      status: { result: string; comment?: string };
    }>;
  }>;
}
