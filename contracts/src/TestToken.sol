// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Plain ERC-20 for local chains and tests: anyone may mint. Never deploy it for value.
contract TestToken is ERC20 {
    constructor() ERC20("instruct3 Test Token", "I3T") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
